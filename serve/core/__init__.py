"""The core: upload bytes -> digit, with numpy, Pillow and onnxruntime only (no web
framework). Used by the web layer and the batch command alike."""
