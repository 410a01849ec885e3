"""Application services: the checkout use cases over the store, one transaction each."""
