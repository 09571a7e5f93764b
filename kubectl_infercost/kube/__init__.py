"""The only package that talks to the Kubernetes API: config, client, CRUD, discovery, scraping."""
