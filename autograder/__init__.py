"""autograder: grade a class of nnlab submissions with nbgrader."""
