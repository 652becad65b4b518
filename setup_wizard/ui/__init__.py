"""What a person sees and answers: screens, prompts, the rendered report."""
