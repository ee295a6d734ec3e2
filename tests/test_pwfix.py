"""A call whose result the Playwright client cannot read (its page died first) fails instead of hanging."""

from __future__ import annotations

import pytest
from playwright._impl.connection import Connection, _Callback
from playwright.sync_api import sync_playwright

from uept.runtime.pwfix import install


def pending_goto(connection: Connection, call_id: int) -> _Callback:
    callback = _Callback(connection._loop.create_future(), None, "Frame", "goto")
    connection._callbacks[call_id] = callback
    return callback


def test_a_goto_whose_response_was_disposed_fails_instead_of_waiting_forever() -> None:
    install()
    install()  # twice: still one wrapper
    assert getattr(Connection.dispatch, "uept_fixed", False)
    with sync_playwright() as pw:
        connection = pw._impl_obj._connection
        # what the driver sends when the browser died mid-navigation: the result names a Response
        # the client has already disposed of together with its page
        # without the fix the client raises while reading the result and forgets the call
        stuck = pending_goto(connection, 10**9 - 1)
        with pytest.raises(Exception, match="was not bound in the connection"):
            Connection.dispatch.original(connection, {"id": 10**9 - 1,
                                                      "result": {"response": {"guid": "response@disposed"}}})
        assert not stuck.future.done()  # still true upstream? then uept/pwfix.py can go
        stuck.future.cancel()
        goto = pending_goto(connection, 10**9)
        connection.dispatch({"id": 10**9, "result": {"response": {"guid": "response@disposed"}}})
        assert goto.future.done(), "the call would wait forever"
        assert "was not bound in the connection" in str(goto.future.exception())
        # a result the client can read still resolves as before
        ok = pending_goto(connection, 10**9 + 1)
        connection.dispatch({"id": 10**9 + 1, "result": {}})
        assert ok.future.result() == {}
