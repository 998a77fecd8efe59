"""Screens pushed over the step view: the course map, help, confirmations, a passed step."""
