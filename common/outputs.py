"""The one atomic writer and output guard for everything datavet writes: it never deletes or replaces what it
did not create, and never leaves a half-written file.

Rules (docs/reliability.md lists the tests that hold them):
- A file output never replaces a folder, and a path that lies under a file is refused.
- A folder output is used when it is new or empty. A folder datavet wrote carries a marker file
  (`.datavet-output`); such a folder is replaced only with `overwrite=True` (`--overwrite`).
  A non-empty folder
  without the marker belongs to someone else and is refused even with `--overwrite`.
- The marker lists what datavet wrote in the folder (`entries`: every file and folder under it, relative,
  sorted), recorded when the writing ends, whether the command succeeded or failed, and for a folder swapped
  in whole (`replace_dir`) before the swap. `--overwrite` deletes only listed entries; a marked folder that
  holds anything unlisted (a file placed there by hand) is refused, naming it, and nothing is deleted.
  The list is taken from the folder itself because libraries write there too (save_pretrained, TensorBoard,
  Ray workers); so a file placed in the folder while a command is writing it is listed as datavet's.
- While a run writes, the marker says `"writing": true` (the folder was new, empty or cleared when the run
  claimed it, and no one else may write it meanwhile). A run killed outright (SIGKILL, power loss) cannot
  record its list; the next `--overwrite` takes everything in such a folder as that run's, so that it can
  clean up after it. This is the one case where a file placed by hand is not told apart.
- A marker written by a datavet version before the list existed (no `entries`, no `writing`) lists nothing:
  datavet cannot tell its files there from files placed by hand, so `--overwrite` refuses such a folder
  unless it is empty, and says how to fix it (delete the folder yourself if it is all datavet's output).
- A folder being written is locked (`.datavet-output.lock`, an OS file lock released when the process dies),
  so a second concurrent run into it fails at once instead of mixing files from both.
- Every file is written to a temporary file beside its target and renamed into place when complete
  (`atomic_path`, `atomic_text`, `write_text`); on failure the temporary file is removed.
- Plain I/O failures (disk full, read-only folder, permission denied, a path under a file) become an
  `OutputError` (exit 2) that says what went wrong and how to fix it, not an internal error.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from schemas.errors import UsageError, os_usage_error

MARKER = ".datavet-output"
LOCK = ".datavet-output.lock"
_MARKER_TMP = ".datavet-output.tmp"
# Names datavet itself keeps in an output folder: they do not make a folder "non-empty".
_OWN = {MARKER, LOCK, _MARKER_TMP}


class OutputError(UsageError):
    """An output path datavet will not or cannot write (exit 2)."""

    title = "cannot write the output"


def os_error(err: OSError, target: str | Path) -> OutputError | None:
    """The user-facing `OutputError` for an I/O failure writing `target`, or None for an unexpected one."""
    if err.errno == errno.ENOENT:
        return None  # a vanished temporary file is our problem, not the user's
    mapped = os_usage_error(err, target, OutputError)
    return mapped if isinstance(mapped, OutputError) else None


@contextmanager
def os_errors_as_usage(target: str | Path) -> Iterator[None]:
    """Re-raise a known I/O failure inside the block as an `OutputError` naming `target`."""
    try:
        yield
    except OSError as e:
        mapped = os_error(e, target)
        if mapped is None:
            raise
        raise mapped from e


def _blocking_file(path: Path) -> Path | None:
    """The first existing ancestor of `path` that is not a folder (so `path` lies under a file), else None."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def check_file_target(target: str | Path) -> Path:
    """Refuse a file output that would replace a folder or lies under a file. Returns the path.

    Raises:
        OutputError: `target` is a folder, or one of its parents is a file.
    """
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target} is a folder; datavet writes a file there and never replaces a folder",
                          fix=f"give a file name, e.g. {target / 'out.json'}")
    under = _blocking_file(target)
    if under is not None:
        raise OutputError(f"cannot write {target}: {under} is a file, not a folder",
                          fix="choose an output path that is not under a file")
    return target


def is_marked(path: Path) -> bool:
    """True when `path` is a folder datavet wrote (it holds the marker file)."""
    return (path / MARKER).is_file()


def _foreign_entries(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.name not in _OWN)


def _shown(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        note = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) else {}


def _walk(path: Path, descend: Any = lambda rel: True) -> Iterator[str]:
    """The relative ('/'-separated) paths of the files and folders under `path`, less datavet's own marker
    and lock; a folder's contents only when `descend(its path)`. Symbolic links are listed, not followed."""
    for root, dirs, files in os.walk(path):
        rel = Path(root).relative_to(path)
        names = [n for n in dirs + files if rel.parts or n not in _OWN]
        yield from ((rel / n).as_posix() for n in names)
        dirs[:] = [d for d in dirs if descend((rel / d).as_posix())]


def _unlisted(path: Path) -> list[str]:
    """What in the folder `path` its marker does not list as datavet's (the top-most such paths, sorted)."""
    note = _read_marker(path) or {}
    if note.get("writing") is True:
        return []  # a run was killed before it could list what it wrote: it is all that run's (see above)
    entries = note.get("entries")
    listed = set(entries) if isinstance(entries, list) else set()
    return sorted(p for p in _walk(path, descend=listed.__contains__) if p not in listed)


def _refuse_unlisted(path: Path, unlisted: list[str]) -> OutputError:
    note = _read_marker(path) or {}
    if not isinstance(note.get("entries"), list):
        return OutputError(
            f"{path} was written by an earlier datavet version that did not record which files it wrote, so "
            f"datavet cannot tell them from files placed there by hand ({_shown(unlisted)})",
            fix=f"if everything in {path} is datavet's output, delete the folder yourself and run again; "
                "otherwise move your files out first, or choose another output folder")
    return OutputError(
        f"{path} holds files datavet did not write ({_shown(unlisted)}); datavet deletes only what it wrote",
        fix="move them out of the folder and run again, or choose another output folder")


def check_dir_target(path: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse a folder output that datavet may not use. Returns the path.

    A new or empty folder is fine; a folder with datavet's marker is fine with `overwrite`; anything else
    (a file, a path under a file, a non-empty folder of another program) is refused.

    Raises:
        OutputError: with what is in the way and how to fix it.
    """
    path = Path(path)
    under = _blocking_file(path)
    if under is not None:
        raise OutputError(f"cannot write {path}: {under} is a file, not a folder",
                          fix="choose an output folder that is not under a file")
    if not path.exists() and not path.is_symlink():
        return path
    if path.is_symlink() or not path.is_dir():
        raise OutputError(f"{path} exists and is not a folder; datavet does not replace it",
                          fix="choose a new folder name for the output")
    entries = _foreign_entries(path)
    if not entries:
        return path
    if not is_marked(path):
        raise OutputError(
            f"{path} is not empty ({_shown(entries)}) and was not written by datavet (no {MARKER} marker); "
            "datavet never deletes or replaces a folder it did not create",
            fix="choose a new or empty output folder (--overwrite replaces only a folder datavet wrote)")
    unlisted = _unlisted(path)
    if unlisted:
        raise _refuse_unlisted(path, unlisted)
    if not overwrite:
        raise OutputError(f"{path} holds an earlier datavet output",
                          fix="pass --overwrite to replace it, or choose another output folder")
    return path


def written_by(path: str | Path) -> str | None:
    """The command recorded in `path`'s marker, or None when `path` is not a folder datavet wrote."""
    return (_read_marker(Path(path)) or {}).get("written_by")


def write_marker(path: Path, command: str = "datavet", *, writing: bool = False,
                 entries: set[str] | None = None) -> None:
    """Mark `path` as a folder datavet wrote, listing `entries` (by default everything it holds now) as
    datavet's; with `writing`, note instead that a run is writing it. A small JSON note naming the command, no
    time, so that the same inputs still give byte-identical folders; written atomically."""
    note: dict[str, Any] = {"written_by": command, "note": "datavet wrote this folder; --overwrite replaces "
                            "what it lists (and refuses while anything else is there)"}
    if writing:
        note["writing"] = True
    else:
        note["entries"] = sorted(_walk(path) if entries is None else entries)
    (path / _MARKER_TMP).write_text(json.dumps(note, indent=1) + "\n", encoding="utf-8")
    os.replace(path / _MARKER_TMP, path / MARKER)


def _clear(path: Path) -> None:
    """Delete what the marker of `path` lists (keeping the marker and lock), for `--overwrite`. A top-level
    entry that is or holds anything unlisted stays (`check_dir_target` refuses such a folder first)."""
    keep = {p.split("/")[0] for p in _unlisted(path)}
    for p in path.iterdir():
        if p.name in _OWN or p.name in keep:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


@contextmanager
def output_dir(path: str | Path, *, overwrite: bool = False, command: str = "datavet",
               lock: bool = True) -> Iterator[Path]:
    """Claim `path` as an output folder for the duration of the block.

    Checks it (`check_dir_target`), creates it, takes its lock (a second holder fails at once), empties it
    when it is an earlier datavet output and `overwrite` is set, and marks it as datavet's. On exit the
    marker lists what the folder holds (what the block wrote, failed or not) and the lock is released; the
    folder and what the block wrote stay. When the block fails before writing anything into a folder this
    call created, the folder is removed again.

    Raises:
        OutputError: the folder may not be used, or another datavet process is writing it.
    """
    from filelock import FileLock, Timeout

    path = check_dir_target(path, overwrite=overwrite)
    created = not path.exists()
    with os_errors_as_usage(path):
        path.mkdir(parents=True, exist_ok=True)
    held = None
    if lock:
        held = FileLock(str(path / LOCK), timeout=0)
        try:
            with os_errors_as_usage(path):
                held.acquire()
        except Timeout:
            raise OutputError(f"another datavet process is writing {path} right now",
                              fix="wait for it to finish, or choose another output folder") from None
    try:
        # Checked again under the lock: a run that finished meanwhile has filled and marked the folder.
        check_dir_target(path, overwrite=overwrite)
        with os_errors_as_usage(path):
            if _foreign_entries(path):
                _clear(path)
            write_marker(path, command, writing=True)
        try:
            yield path
        except BaseException:
            with suppress(OSError):  # a failed run's files are datavet's too: the next run may clear them
                write_marker(path, command)
            raise
        with os_errors_as_usage(path):
            write_marker(path, command)
    except BaseException:
        if held is not None:
            held.release()
            held = None
        _remove_if_unused(path, rmdir=created)  # a failed command leaves no empty output folder of ours
        raise
    finally:
        if held is not None:
            held.release()


def _remove_if_unused(path: Path, *, rmdir: bool) -> None:
    """Take our marker and lock out of a folder that holds nothing else (and remove it, when we created
    it)."""
    try:
        if _foreign_entries(path):
            return
        for name in _OWN:
            (path / name).unlink(missing_ok=True)
        if rmdir:
            path.rmdir()
    except OSError:
        pass


@contextmanager
def continued_dir(path: str | Path, *, command: str = "datavet") -> Iterator[Path]:
    """A folder an earlier run wrote, continued in place (`finetune run --resume`): nothing is checked or
    removed. When the folder is marked, what the block adds is listed as datavet's on exit; what was there
    before keeps its standing (a killed run's unlisted folder is all that run's, see above)."""
    path = Path(path)
    before = set(_walk(path)) if path.is_dir() else set()
    try:
        yield path
    finally:
        note = _read_marker(path)
        if note is not None:
            kept = note.get("entries") if isinstance(note.get("entries"), list) else []
            added = set(_walk(path)) if note.get("writing") is True else set(_walk(path)) - before
            with suppress(OSError):
                write_marker(path, note.get("written_by") or command, entries=set(kept) | added)


def replace_dir(tmp: Path, target: Path, *, overwrite: bool = False, command: str = "datavet") -> None:
    """Move the complete folder `tmp` onto `target`, marking it (with everything in `tmp` listed); the old
    `target` goes only if datavet wrote it and it holds nothing unlisted.

    Raises:
        OutputError: `target` may not be replaced (see `check_dir_target`).
    """
    check_dir_target(target, overwrite=overwrite)
    write_marker(tmp, command)
    if target.exists():
        old = target.with_name(f".{target.name}.old.{os.getpid()}")
        target.rename(old)
        if _unlisted(old):
            old.rename(target)  # something was placed there since the check: put the folder back and refuse
            check_dir_target(target, overwrite=overwrite)
            raise OutputError(f"{target} changed while datavet was replacing it", fix="run the command again")
        try:
            tmp.rename(target)
        except BaseException:
            old.rename(target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(target)


def claim_outputs(ctx: Any, *, folder: str | Path | None = None, files: tuple[str | Path | None, ...] = (),
                  overwrite: bool = False, command: str = "datavet") -> None:
    """Check a command's outputs before it does any work, and hold its output folder until the command ends.

    `files` must not be folders or lie under a file; `folder` is claimed with `output_dir` (new, empty, or
    with `overwrite` an earlier datavet output; locked against a concurrent run). A file inside `folder` is
    checked when it is written.

    Args:
        ctx: the click/typer context of the running command (its `with_resource` holds the claim).
        folder: the command's output folder, if any.
        files: the command's single-file outputs, if any.
        overwrite: the command's `--overwrite`.
        command: who writes, recorded in the folder's marker.
    """
    for f in files:
        if f is not None and not (folder is not None and Path(folder) in Path(f).parents):
            check_file_target(f)
    if folder is not None:
        ctx.with_resource(output_dir(folder, overwrite=overwrite, command=command))


@contextmanager
def atomic_path(target: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success rename it onto `target`, on failure remove it.

    Raises:
        OutputError: `target` is a folder or lies under a file, or the write failed for a reason the user
            can fix (disk full, read-only or unwritable folder); the temporary file is removed first.
    """
    target = check_file_target(target)
    with os_errors_as_usage(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    # mkstemp creates 0600; an output file should get the usual permissions (0666 less the umask).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        check_file_target(target)  # a folder may have appeared there while we wrote
        os.replace(tmp_path, target)
    except BaseException as e:
        if tmp_path.is_dir():
            shutil.rmtree(tmp_path, ignore_errors=True)
        else:
            tmp_path.unlink(missing_ok=True)
        mapped = os_error(e, target) if isinstance(e, OSError) else None
        if mapped is not None:
            raise mapped from e
        raise


@contextmanager
def atomic_text(target: str | Path) -> Iterator[IO[str]]:
    """A text file (UTF-8, LF line ends) written atomically to `target`."""
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        yield fh


def write_text(text: str, target: str | Path) -> Path:
    """Write `text` (UTF-8) to `target` atomically. Returns the path."""
    with atomic_text(target) as fh:
        fh.write(text)
    return Path(target)
