"""The local test world: a real kube-apiserver + etcd and a file-backed GPU/inference simulator.

Not shipped with the plugin; used by scripts/with-cluster, scripts/sim-pod, the
integration tests, ``make demo`` and the benchmarks.
"""
