"""Inner optimisers that exploit an imperfect outer search: meiotic drive in evolution,
tessellating hills in gradient descent."""
