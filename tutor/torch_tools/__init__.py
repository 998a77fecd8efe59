"""Programs that need torch, run in child processes so the tutor's own process never imports
it: what torch sees on this machine (``facts``) and the Fashion-MNIST download
(``fetch_data``); ``machine`` is the adapter through which the core asks for them."""
