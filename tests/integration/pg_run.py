"""Runs a command against a throwaway PostgreSQL cluster (pgcluster.py): the command gets
PS_TEST_PG_CONNINFO (and PS_TEST_STORE=postgres) in its environment; the cluster is removed
afterwards. Exits with the command's status, or 77 (skipped) with a message when PostgreSQL
is not installed. ctest runs the store's tests a second time through it
(tests/CMakeLists.txt: *.postgres)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402


def main():
    if len(sys.argv) < 2:
        print("usage: pg_run.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    pgcluster.require()
    with pgcluster.Cluster() as pg:
        env = dict(os.environ, PS_TEST_PG_CONNINFO=pg.conninfo, PS_TEST_STORE="postgres")
        return subprocess.call(sys.argv[1:], env=env)


if __name__ == "__main__":
    sys.exit(main())
