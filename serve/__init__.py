"""draw-a-digit serving: a framework-free core (serve.core), a thin Flask layer (serve.web),
the batch command (serve.batch) and one settings object (serve.settings)."""
