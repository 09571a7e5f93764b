"""A frozen binary gives child processes (exec credential plugins) the user's environment back."""

from __future__ import annotations

from kubectl_infercost.__main__ import matplotlib_cache, restore_user_environment

BUNDLE = "/tmp/_MEIabc123"


def test_the_users_value_comes_back_from_orig() -> None:
    env = {"LD_LIBRARY_PATH": f"{BUNDLE}:/opt/user", "LD_LIBRARY_PATH_ORIG": "/opt/user", "HOME": "/root"}
    restore_user_environment(env, BUNDLE)
    assert env == {"LD_LIBRARY_PATH": "/opt/user", "HOME": "/root"}


def test_a_path_the_user_never_set_is_removed() -> None:
    env = {"LD_LIBRARY_PATH": BUNDLE, "HOME": "/root"}
    restore_user_environment(env, BUNDLE)
    assert env == {"HOME": "/root"}


def test_a_users_path_without_orig_keeps_only_the_users_entries() -> None:
    env = {"LD_LIBRARY_PATH": f"/opt/user:{BUNDLE}/lib"}
    restore_user_environment(env, BUNDLE)
    assert env == {"LD_LIBRARY_PATH": "/opt/user"}


def test_bootloader_variables_do_not_reach_a_child_pyinstaller_program() -> None:
    env = {"_PYI_APPLICATION_HOME_DIR": BUNDLE, "_PYI_PARENT_PROCESS_LEVEL": "1", "_MEIPASS2": BUNDLE, "PATH": "/bin"}
    restore_user_environment(env, BUNDLE)
    assert env == {"PATH": "/bin"}


def test_matplotlib_cache_per_release_under_the_users_cache() -> None:
    env = {"HOME": "/home/ana"}
    matplotlib_cache(env, "0.1.0")
    assert env["MPLCONFIGDIR"] == "/home/ana/.cache/kubectl-infercost/matplotlib-0.1.0"
    xdg = {"XDG_CACHE_HOME": "/var/cache/ana"}
    matplotlib_cache(xdg, "0.2.0")
    assert xdg["MPLCONFIGDIR"] == "/var/cache/ana/kubectl-infercost/matplotlib-0.2.0"
    chosen = {"MPLCONFIGDIR": "/srv/mpl", "HOME": "/home/ana"}
    matplotlib_cache(chosen, "0.1.0")
    assert chosen["MPLCONFIGDIR"] == "/srv/mpl"
