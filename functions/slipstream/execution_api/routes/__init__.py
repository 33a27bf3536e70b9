"""One router per resource of the Execution API."""
