"""No import circle anywhere in hybridcore, module by module (the layers between its packages
are import-linter's contracts in pyproject.toml, run by `make lint`)."""

from __future__ import annotations

import grimp


def test_no_module_of_hybridcore_imports_one_that_imports_it_back():
    graph = grimp.build_graph("hybridcore")
    closing = [
        (module, imported)
        for module in sorted(graph.modules)
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    ]
    assert len(graph.modules) > 50 and closing == []
