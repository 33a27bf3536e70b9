"""One router per resource; `slipstream.management_api.app` assembles them behind the admin check."""
