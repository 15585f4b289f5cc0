"""
temporal_activity.py - a Temporal activity that processes one record through
enclave-gateway (README: "Operations: scaling out").

The orchestrator never holds a key or a plaintext: the workflow passes the
data owner's ciphertext (hex of nonce || AES-256-GCM ct || tag under the
TSK) and gets the enclave's result back, sealed under the same key.

    pip install temporalio
    GATEWAY_URL=http://127.0.0.1:8080 python3 docs/examples/temporal_activity.py

The activity is the same whether the enclaves run with --bind-direction
or not: the aad travels unchanged, only the data owner's sealing and
opening differ (docs/examples/data_owner.py).

Retries belong to Temporal: the gateway answers 503 (no enclave up, queue
full; with Retry-After), 502 or 504 for trouble worth retrying, and 4xx for
a request that will never succeed (decrypt_failed, invalid_hex, ...), which
the activity turns into a non-retryable error. Processing is a pure
function of the ciphertext, so a retried activity can do no harm.
"""

import asyncio
import json
import os
import urllib.error
import urllib.request
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

GATEWAY_URL = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080")
TASK_QUEUE = "confidential-enclave"


@activity.defn
def process_record(ciphertext_hex: str, aad: str = "") -> str:
    """POST /v1/process; returns the result hex."""
    body = {"ciphertext": ciphertext_hex}
    if aad:
        body["aad"] = aad
    req = urllib.request.Request(
        GATEWAY_URL + "/v1/process", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.load(resp)["result"]
    except urllib.error.HTTPError as e:
        try:
            err = json.load(e)
        except ValueError:
            err = {"error": "http_%d" % e.code, "details": ""}
        code = err.get("error", "unknown")
        if 400 <= e.code < 500:
            # The enclave's verdict on this input: retrying cannot help.
            raise ApplicationError("%s: %s" % (code, err.get("details", "")),
                                   type=code, non_retryable=True)
        retry_after = e.headers.get("Retry-After")
        raise ApplicationError(
            "gateway %d %s" % (e.code, code), type=code,
            next_retry_delay=timedelta(seconds=int(retry_after))
            if retry_after and retry_after.isdigit() else None)
    # Connection refused / reset: a plain exception, retried by Temporal.


@workflow.defn
class ProcessRecord:
    @workflow.run
    async def run(self, ciphertext_hex: str, aad: str = "") -> str:
        return await workflow.execute_activity(
            process_record, args=[ciphertext_hex, aad],
            start_to_close_timeout=timedelta(seconds=90),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                     backoff_coefficient=2.0,
                                     maximum_interval=timedelta(seconds=30),
                                     maximum_attempts=10))


async def main():
    from concurrent.futures import ThreadPoolExecutor

    client = await Client.connect(os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"))
    # A sync activity runs in threads: size the pool like the gateway's
    # capacity on this parent (enclaves x --connections-per-enclave).
    with ThreadPoolExecutor(max_workers=16) as pool:
        worker = Worker(client, task_queue=TASK_QUEUE, workflows=[ProcessRecord],
                        activities=[process_record], activity_executor=pool,
                        max_concurrent_activities=16)
        await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
