"""One module per algorithm. Each declares itself to ``solvers.registry`` (name, kind, options, result
columns); the registry finds every module of this package, so adding an algorithm is adding a module."""
