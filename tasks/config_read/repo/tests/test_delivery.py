from notifier.delivery import backoff_schedule


def test_schedule_doubles():
    config = {"webhooks": {"initial_backoff_s": 1, "max_retries": 3, "backoff_multiplier": 2.0}}
    assert backoff_schedule(config) == [1, 2.0, 4.0]
