# Names vulture (make lint) cannot see used: each is read by a framework or a library, never by our code.
# Keep it short: code that nothing calls is deleted, not listed here.
# ruff: noqa
# type: ignore

# click's ShellComplete interface (cli/completion.py): click reads these on every shell class.
source_template
get_completion_args

# click.Group's interface, overridden by the lazy root group (cli/__init__.py).
list_commands
get_command

# The kubernetes client reads these settings (kube/client.py).
connection_pool_maxsize
user_agent

# CRD fields parsed from the API server: the models mirror the schema (models/).
resource_version
owner_references
idle_watts_threshold
api_version

# The board's charts are drawn by name: Section.chart names them, board_html/board_pdf getattr them.
namespace_bars
trend_line
idle_donut
price_bars
budget_bars

# http.server and socketserver hooks of the simulator (testenv/simulator.py).
protocol_version
server_version
log_message
do_GET
daemon_threads
request_queue_size
handle_error
client_address
close_connection

# http.server hooks of the API proxy in front of kube-apiserver (testenv/apiproxy.py).
do_PUT
do_POST
do_PATCH
do_DELETE

# html.parser.HTMLParser hooks (tests/boardcheck.py).
handle_starttag
handle_endtag
handle_data
