"""Domain logic between the HTTP routes and the store: what a transition means, not how it is stored."""
