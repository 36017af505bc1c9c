"""The Gradio web UI (``coach ui``): interview chat, batch grading, corpus, history."""
