# Settings for grading nnlab with nbgrader. `python -m autograder` loads this file, and the
# course root's own nbgrader_config.py loads it too, so plain `nbgrader` commands and the
# formgrader run on a course folder with the same pipeline.
c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "nnlab"

# A per-cell limit; `grade --timeout-cell` overrides it. A timed-out cell scores 0 and
# later cells still run.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True
c.Execute.shutdown_kernel = "immediate"

# A grade cell the student deleted is put back from the gradebook instead of silently
# going ungraded.
c.OverwriteCells.add_missing_cells = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A flood of output is cut before it reaches the gradebook or the feedback.
c.LimitOutput.max_lines = 500
c.LimitOutput.max_traceback = 50

# The autograde pipeline, in nbgrader's order. Only the executor differs from stock:
# JudgedExecute runs the kernel in a scratch folder, enforces the per-submission
# wall-clock limit and kills the kernel's whole process group afterwards.
c.Autograde.autograde_preprocessors = [
    "autograder.preprocessors.JudgedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Feedback: grades first (GetGrades), then hide the hidden tests and the traceback lines
# that would quote them, then the stylesheet.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.preprocessors.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
