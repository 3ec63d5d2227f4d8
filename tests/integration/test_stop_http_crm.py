"""SIGTERM/SIGINT while a CRM connector waits on HTTP (docs/operations.md, "Stopping a run"), as
test_stop_http.py checks it for gsheet: the steamaco, sparkmeter and angaza connectors (manifests
of the rest provider) against their emulators, through the real binary. After a clean first run,
the incremental run's payments request gets no answer for STALL_S seconds (or a 503 with
Retry-After: STALL_S); the run is signalled once the emulator has counted that request. It must
end within END_S with exit status 1 and the stop's message, the JSONL output and the store as
the first run left them, and the next run must succeed and leave the store a clean run leaves.

END_S is not a speed goal: it only has to be far below STALL_S, so that a run that waited for
the request to end fails the test."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from crmemu import ConnectorCase  # noqa: E402

STALL_S = 90  # a stalled answer and a Retry-After both last this long
END_S = 15    # a stopped run must be gone well before STALL_S
WAIT_S = 60   # for the run to reach the fault


class StopMixin:
    """For a ConnectorCase subclass: `payments` is the emulator's request kind that carries the
    payments (the fault's WHEN)."""

    payments = None
    emulator_args = ("--stall-seconds", STALL_S)

    def stop_run(self, fault, sig):
        """The clean first run, then a run whose payments request gets `fault`, signalled with
        sig once the emulator counted it. Checks rc 1 within END_S, the message, and that the
        output and the store are as the first run left them. Returns the stopped run's output
        and how many requests got the fault."""
        self.good_first_run()
        self.emu.faults([{"when": self.payments, "kind": fault, "count": -1}])
        rc, text = pslib.run_stopped(self, self.cfg,
                                     lambda: self.emu.counts().get("fault:" + fault, 0),
                                     "the %s fault" % fault, sig, END_S, WAIT_S)
        pslib.assert_stopped(self, rc, text, signal.Signals(sig).name)
        for s in self.secrets:
            self.assertNotIn(s, text)
        self.assertEqual(self.output(), self.before, "a stopped run changed the output")
        self.assertEqual(self.store_rows(), self.store_before, "a stopped run changed the store")
        # the next run picks up where the first left off (its JSONL holds only its window)
        # and leaves the store a clean run leaves
        faulted = self.emu.counts().get("fault:" + fault)
        self.emu.reset()
        ok = self.run_paysync()
        self.assertEqual(ok.rc, 0, ok)
        self.assertEqual(self.store_without_run_ids(), self.clean_store,
                         "the store after the stop differs from a clean run")
        return text, faulted

    def test_stalled_payments_page(self):
        text, faulted = self.stop_run("stall", signal.SIGTERM)
        self.assertEqual(faulted, 1)

    def test_retry_after_wait(self):
        text, faulted = self.stop_run("503wait", signal.SIGINT)
        self.assertIn("retrying in", text)  # the wait had begun
        self.assertEqual(faulted, 1)  # no retry went out


class Steamaco(StopMixin, ConnectorCase):
    emulator = "steama"
    plugin = "steamaco"
    payments = "transactions"
    secrets = ("s3cret-Steama-pass",)

    def source(self):
        return {"username": "operator@example.com", "password": self.secrets[0],
                "currency": "NGN", "customer_category": "Residential"}


class Sparkmeter(StopMixin, ConnectorCase):
    emulator = "sparkmeter"
    plugin = "sparkmeter"
    payments = "historical"
    secrets = ("koios-key-0123", "koios-secret-s3cr3t")

    def source(self):
        return {"org_id": "4b0d6a52-org", "api_key": self.secrets[0],
                "api_secret": self.secrets[1], "start": "2024-03-01",
                "customer_category": "Residential", "requests_per_minute": 0}


class Angaza(StopMixin, ConnectorCase):
    emulator = "angaza"
    plugin = "angaza"
    api_path = "/data"
    payments = "payments"
    secrets = ("s3cret-Angaza-pass",)

    def source(self):
        return {"username": "operator@example.com", "password": self.secrets[0],
                "customer_category": "Residential", "page_size": 5, "requests_per_minute": 0}


if __name__ == "__main__":
    pslib.main()
