"""Personal data (UU PDP 27/2022): data-subject rights, correction, restriction, retention."""
