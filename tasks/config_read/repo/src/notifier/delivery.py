"""Webhook delivery with retries and exponential backoff."""

import time

from . import settings


def backoff_schedule(config: dict) -> list[float]:
    hooks = config["webhooks"]
    delay = hooks["initial_backoff_s"]
    schedule = []
    for _ in range(hooks["max_retries"]):
        schedule.append(delay)
        delay *= hooks["backoff_multiplier"]
    return schedule


def deliver(send, payload, config=None, sleep=time.sleep):
    config = config or settings.load()
    attempts = [0.0] + backoff_schedule(config)
    last_error = None
    for delay in attempts:
        if delay:
            sleep(delay)
        try:
            return send(payload, timeout=config["webhooks"]["timeout_s"])
        except ConnectionError as err:
            last_error = err
    raise last_error
