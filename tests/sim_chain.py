"""Driver parameters for emo_sim's simulated chain (the `chain` fixture: tests/conftest.py)."""


def on_chain(chain, params=()) -> list:
    """Driver parameter overrides that open `chain` (the simulated chain answers from Python: an 8 ms
    latency timer sizes its packet timeouts), with `params` after them."""
    from rclpy.parameter import Parameter
    return [Parameter('port', value=chain.port), Parameter('latency_timer_ms', value=8)] + list(params)
