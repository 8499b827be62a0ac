"""Which code a figure was measured with: the commit every results file names.

    git_commit()              # '3fda9fabf7aa...' or '3fda9fa...-dirty'; 'unknown' outside a git checkout
    git_commit(short=True)    # '3fda9fa' (+ '-dirty')
"""
import pathlib
import subprocess


def git_commit(short: bool = False, where=None) -> str:
    """HEAD of the checkout holding `where` (default: this file, so an install inside the workspace finds
    the workspace), marked '-dirty' when tracked files differ from it."""
    here = pathlib.Path(where or __file__).resolve()
    here = here if here.is_dir() else here.parent
    try:
        head = subprocess.run(['git', 'rev-parse', *(['--short'] if short else []), 'HEAD'], cwd=here,
                              capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return 'unknown'
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head.stdout.strip() + ('-dirty' if dirty else '')
    except (OSError, subprocess.SubprocessError):
        return 'unknown'
