"""Run the quickstart's stages: the repository's ``tools/train.py`` / ``tools/test.py`` as
subprocesses (two at a time when they do not depend on each other) with progress bars, and
reuse of stages that finished with the same inputs.

A stage that succeeds writes ``<stage dir>/quickstart_stage.json`` (its fingerprint, outputs,
command lines, duration and a run id). A later run skips it when the fingerprint and the
outputs are unchanged. The fingerprint covers everything the stage reads (for tool stages the
fully resolved config after ``--cfg-options`` and the tool arguments) and the run ids of the
stages it depends on, so editing a config or rerunning an upstream stage reruns what follows.

Inside :func:`stop_on_signals`, SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted`; the
runner then stops every running tool (and its data-loader workers) within seconds. An
interrupted stage has no :data:`STAGE_FILE` and reruns next time.
"""
import collections
import contextlib
import hashlib
import json
import os
import os.path as osp
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from tqdm import tqdm

#: Name of the environment variable the quickstart configs read their folder from.
QUICKSTART_DIR_ENV = 'POSTOMETRO_QUICKSTART_DIR'
STAGE_FILE = 'quickstart_stage.json'
#: mmengine's progress lines, e.g. ``Iter(train) [ 20/600]`` or ``Iter(test) [4/4]``.
_PROGRESS = re.compile(r'Iter\((train|val|test)\)\s*\[\s*(\d+)/(\d+)\]')
_TAIL_LINES = 40
#: Seconds a stopped tool gets to exit after SIGTERM before it is killed.
_STOP_GRACE_SECONDS = 3.0
#: Signals that stop a run inside :func:`stop_on_signals`.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """A stop signal arrived (a ``BaseException``, like ``KeyboardInterrupt``, so no
    ``except Exception`` swallows it).

    Attributes:
        signum: the signal.
        stages: names of the stages that were running (set by :meth:`StageRunner.run_all`).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.stages: List[str] = []

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, the first of :data:`STOP_SIGNALS` raises :class:`Interrupted` in the
    main thread and later ones are ignored (the previous handlers are restored after it).
    Elsewhere than in the main thread it does nothing: Python delivers signals to the main
    thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    stopping = []

    def handler(signum, frame):
        if not stopping:  # later signals must not cut the stopping of the tools short
            stopping.append(signum)
            raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def repo_root() -> str:
    """The repository holding this package (its ``tools/`` and ``configs/``)."""
    return osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def format_seconds(seconds: float) -> str:
    """``75.2`` -> ``'1m15s'``; under a minute ``'42.0s'``."""
    if seconds < 60:
        return f'{seconds:.1f}s'
    minutes, secs = divmod(int(round(seconds)), 60)
    return f'{minutes}m{secs:02d}s'


def fingerprint(payload: Any) -> str:
    """SHA-256 of a JSON-serialisable payload (other values by ``str``)."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def resolved_config(config: str, cfg_options: Dict[str, Any], quickstart_dir: str) -> dict:
    """The config as the tools see it: loaded with ``quickstart_dir`` substituted and
    ``cfg_options`` merged (for fingerprints)."""
    from mmengine.config import Config
    previous = os.environ.get(QUICKSTART_DIR_ENV)
    os.environ[QUICKSTART_DIR_ENV] = quickstart_dir
    try:
        cfg = Config.fromfile(config)
    finally:
        if previous is None:
            os.environ.pop(QUICKSTART_DIR_ENV)
        else:
            os.environ[QUICKSTART_DIR_ENV] = previous
    cfg.merge_from_dict(dict(cfg_options))
    return cfg.to_dict()


def format_cfg_options(cfg_options: Dict[str, Any]) -> List[str]:
    """``--cfg-options`` arguments (``key=value``) in the syntax of mmengine's DictAction.

    Raises:
        ValueError: a value holds whitespace, which DictAction deletes.
    """
    args = []
    for key, value in cfg_options.items():
        if isinstance(value, (list, tuple)):
            value = '[' + ','.join(str(v) for v in value) + ']'
        if any(c.isspace() for c in str(value)):
            raise ValueError(f'--cfg-options {key}={value!r}: mmengine\'s DictAction deletes '
                             'whitespace from values; use paths without spaces')
        args.append(f'{key}={value}')
    return args


@dataclass
class ToolCall:
    """One run of a repository tool.

    Attributes:
        tool: ``'train'`` or ``'test'`` (``tools/<tool>.py``).
        config: config file, relative to the repository root (or absolute).
        args: arguments after the config (e.g. the checkpoint, ``--work-dir``, ``--out``).
        cfg_options: ``--cfg-options`` entries.
    """
    tool: str
    config: str
    args: List[str] = field(default_factory=list)
    cfg_options: Dict[str, Any] = field(default_factory=dict)

    def argv(self) -> List[str]:
        """The command line without the interpreter."""
        argv = [f'tools/{self.tool}.py', self.config, *self.args]
        if self.cfg_options:
            argv += ['--cfg-options', *format_cfg_options(self.cfg_options)]
        return argv

    def display(self, quickstart_dir: str) -> str:
        """Shell command that reruns the call from the repository root."""
        return (f'{QUICKSTART_DIR_ENV}={shlex.quote(quickstart_dir)} python '
                + ' '.join(shlex.quote(a) for a in self.argv()))


@dataclass
class StagePlan:
    """What a stage does, known once the stages it depends on have finished.

    Either ``tool`` (run as a subprocess, then ``finish()`` returns the outputs) or ``work``
    (run in this process, returns the outputs).

    Attributes:
        stage_dir: the stage's folder; holds :data:`STAGE_FILE`.
        key: everything the result depends on besides the upstream stages (hashed).
        tool / log_file / finish: subprocess stage.
        work: in-process stage.
        commands: command lines to list in the report.
        clean: empty ``stage_dir`` before running (stale files of older runs).
        self_reusing: ``work`` reuses its own earlier results (as ``generate_world`` does),
            so it always runs and its run id is the fingerprint of its outputs.
    """
    stage_dir: str
    key: Dict[str, Any]
    tool: Optional[ToolCall] = None
    log_file: Optional[str] = None
    finish: Optional[Callable[[], Dict[str, Any]]] = None
    work: Optional[Callable[[], Dict[str, Any]]] = None
    commands: List[str] = field(default_factory=list)
    clean: bool = True
    self_reusing: bool = False


@dataclass
class Stage:
    """A node of the quickstart's graph: ``plan(results)`` is called with the results of
    ``deps`` once they are all done."""
    name: str
    title: str
    deps: Sequence[str]
    plan: Callable[[Dict[str, 'StageResult']], StagePlan]


@dataclass
class StageResult:
    """What a finished (or reused) stage reports; ``run_id`` identifies the execution that
    produced ``outputs`` (downstream fingerprints include it)."""
    name: str
    outputs: Dict[str, Any]
    seconds: float
    reused: bool
    commands: List[str]
    run_id: str


class _RunningTool:
    """A tool subprocess whose output goes to a log file and drives a progress bar; created
    first and started by :meth:`start`, so that a runner that lists it before starting it
    can always stop it."""

    def __init__(self, stage: Stage, plan: StagePlan, digest: str, verbose: bool,
                 position: int, stream) -> None:
        self.stage, self.plan, self.digest = stage, plan, digest
        self.started = time.time()
        self.tail: collections.deque = collections.deque(maxlen=_TAIL_LINES)
        self.verbose, self.position, self.stream = verbose, position, stream
        self.proc: Optional[subprocess.Popen] = None
        self.bar: Optional[tqdm] = None
        self.reader = threading.Thread(target=self._read, daemon=True)

    def start(self, python: str, env: Dict[str, str]) -> None:
        os.makedirs(osp.dirname(self.plan.log_file), exist_ok=True)
        self.log = open(self.plan.log_file, 'w')
        # A session of its own: stopping the tool also stops its data-loader workers (which
        # share its stdout, so the reader only sees the end of the output once they are gone).
        self.proc = subprocess.Popen([python, *self.plan.tool.argv()], cwd=repo_root(),
                                     env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1,
                                     start_new_session=True)
        self.reader.start()

    def _read(self) -> None:
        phase = None
        for line in self.proc.stdout:
            self.log.write(line)
            self.tail.append(line)
            if self.verbose:
                self.stream.write(line)
                continue
            match = _PROGRESS.search(line)
            if match is None:
                continue
            loop, done, total = match.group(1), int(match.group(2)), int(match.group(3))
            if loop != phase:
                if self.bar is not None:
                    self.bar.close()
                phase = loop
                self.bar = tqdm(total=total, desc=f'    {self.stage.name} ({loop})', unit='it',
                                position=self.position, file=self.stream, leave=False,
                                dynamic_ncols=True, mininterval=1.0)
            self.bar.update(done - self.bar.n)

    def poll(self) -> Optional[int]:
        code = self.proc.poll()
        if code is None:
            return None
        self.reader.join(timeout=30)
        self.log.close()
        if self.bar is not None:
            self.bar.close()
        return code

    def signal_session(self, sig: int) -> None:
        """Send ``sig`` to every process of the tool's session (its data-loader workers)."""
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass


def stop_tools(tools: Sequence[_RunningTool]) -> None:
    """Stop ``tools`` and their sessions together: SIGTERM, up to
    :data:`_STOP_GRACE_SECONDS` to exit, then SIGKILL to what is left; waits for them."""
    tools = [tool for tool in tools if tool.proc is not None]
    for tool in tools:
        tool.signal_session(signal.SIGTERM)
    deadline = time.time() + _STOP_GRACE_SECONDS
    for tool in tools:
        try:
            tool.proc.wait(timeout=max(0.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            pass
    for tool in tools:
        # also after the leader exited: workers of its session may still run
        tool.signal_session(signal.SIGKILL)
        tool.proc.wait()
        tool.poll()


class StageRunner:
    """Runs a graph of stages: up to ``jobs`` tool subprocesses at a time, in-process stages
    in between, printing ``[k/n] title``, progress bars and timings.

    Args:
        work_dir: the quickstart folder (absolute), given to the tools' configs.
        force: rerun every stage even if it finished before.
        verbose: stream the tools' full output instead of progress bars.
        jobs: tool subprocesses that may run at the same time.
        threads: ``OMP_NUM_THREADS`` of each tool (intra-op threads of torch).
        python: interpreter running the tools (default: this one).
        stream: where progress goes (default ``sys.stdout``).
    """

    def __init__(self, work_dir: str, force: bool = False, verbose: bool = False,
                 jobs: int = 2, threads: int = 1, python: Optional[str] = None,
                 stream=None) -> None:
        self.work_dir = work_dir
        self.force = force
        self.verbose = verbose
        self.jobs = max(1, jobs)
        self.threads = threads
        self.python = python or sys.executable
        self.stream = stream or sys.stdout
        self.start = time.time()
        self.results: Dict[str, StageResult] = {}
        self._plans: Dict[str, StagePlan] = {}
        self._counter = 0
        self._total = 0
        self._working: List[str] = []  # the in-process stage running now

    # ------------------------------------------------------------------ printing
    def say(self, text: str) -> None:
        tqdm.write(text, file=self.stream)
        self.stream.flush()

    def elapsed(self) -> str:
        return format_seconds(time.time() - self.start)

    def _announce(self, stage: Stage, what: str) -> None:
        self._counter += 1
        self.say(f'[{self._counter}/{self._total}] {stage.title}: {what}  '
                 f'(elapsed {self.elapsed()})')

    # ------------------------------------------------------------------ running
    def tool_env(self) -> Dict[str, str]:
        """Environment of the tools: this checkout first on PYTHONPATH, the quickstart folder
        for the configs, and the thread count."""
        env = dict(os.environ)
        root = repo_root()
        env['PYTHONPATH'] = os.pathsep.join(
            [root] + ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
        env[QUICKSTART_DIR_ENV] = self.work_dir
        env['OMP_NUM_THREADS'] = env['MKL_NUM_THREADS'] = str(self.threads)
        env['PYTHONUNBUFFERED'] = '1'
        return env

    def run_all(self, stages: Sequence[Stage]) -> Dict[str, StageResult]:
        """Run ``stages`` (listed in a valid order; earlier ones start first when several are
        ready) and return their results.

        Raises:
            RuntimeError: a stage failed (the message names its log); running tools are
                stopped first.
            Interrupted: a stop signal arrived (see :func:`stop_on_signals`); running tools
                are stopped first and named in its ``stages``.
        """
        names = [s.name for s in stages]
        for stage in stages:
            unknown = [d for d in stage.deps if d not in names[:names.index(stage.name)]]
            if unknown:
                raise ValueError(f'stage {stage.name} depends on {unknown}, which are not '
                                 'listed before it')
        self._total += len(stages)
        pending = list(stages)
        running: List[_RunningTool] = []
        try:
            while pending or running:
                started = self._start_ready(pending, running)
                for tool in list(running):
                    code = tool.poll()
                    if code is None:
                        continue
                    running.remove(tool)
                    if code != 0:
                        self.stream.write(''.join(tool.tail))
                        command = ' '.join(tool.plan.tool.argv())
                        raise RuntimeError(
                            f'stage "{tool.stage.name}" failed: "{command}" exited with code '
                            f'{code}; full log: {tool.plan.log_file}')
                    self._record(tool.stage, tool.plan, tool.digest, tool.plan.finish(),
                                 time.time() - tool.started)
                    started = True
                if not started and running:
                    time.sleep(0.2)
                elif not started and pending:
                    raise RuntimeError('stages wait for each other: '
                                       + ', '.join(s.name for s in pending))
        except Interrupted as interrupted:
            interrupted.stages = [tool.stage.name for tool in running] + self._working
            raise
        finally:
            stop_tools(running)
        return self.results

    def _start_ready(self, pending: List[Stage], running: List[_RunningTool]) -> bool:
        """Reuse or start every stage whose dependencies are done (tools while a slot is
        free; in-process stages only when no tool runs). Returns whether anything moved."""
        moved = False
        for stage in list(pending):
            if any(d not in self.results for d in stage.deps):
                continue
            if stage.name not in self._plans:
                self._plans[stage.name] = stage.plan(self.results)
            plan = self._plans[stage.name]
            digest = fingerprint(dict(key=plan.key,
                                      upstream=[self.results[d].run_id for d in stage.deps]))
            record = _read_json(osp.join(plan.stage_dir, STAGE_FILE))
            if (not self.force and not plan.self_reusing and record is not None
                    and record.get('fingerprint') == digest and 'run_id' in record
                    and _outputs_exist(record.get('outputs', {}))):
                pending.remove(stage)
                moved = True
                self.results[stage.name] = StageResult(
                    stage.name, record['outputs'], record['seconds'], True,
                    record.get('commands', []), record['run_id'])
                self._announce(stage, f'reused (took {format_seconds(record["seconds"])} '
                               'earlier; --force reruns it)')
                continue
            if plan.tool is not None and len(running) >= self.jobs:
                continue
            if plan.work is not None and running:
                continue
            pending.remove(stage)
            moved = True
            if plan.clean and osp.isdir(plan.stage_dir):
                shutil.rmtree(plan.stage_dir)
            os.makedirs(plan.stage_dir, exist_ok=True)
            if osp.exists(osp.join(plan.stage_dir, STAGE_FILE)):
                os.remove(osp.join(plan.stage_dir, STAGE_FILE))  # rewritten once it succeeds
            if plan.tool is not None:
                self._announce(stage, 'started')
                taken = {tool.position for tool in running}
                position = min(set(range(len(running) + 1)) - taken)
                tool = _RunningTool(stage, plan, digest, self.verbose, position, self.stream)
                running.append(tool)
                tool.start(self.python, self.tool_env())
            else:
                self._announce(stage, 'running')
                begun = time.time()
                self._working = [stage.name]
                outputs = plan.work()
                self._working = []
                self._record(stage, plan, digest, outputs, time.time() - begun)
        return moved

    def _record(self, stage: Stage, plan: StagePlan, digest: str, outputs: Dict[str, Any],
                seconds: float) -> None:
        missing = [p for p in _output_paths(outputs) if not osp.exists(p)]
        if missing:
            raise RuntimeError(f'stage "{stage.name}" finished without its outputs {missing}')
        run_id = (fingerprint(outputs) if plan.self_reusing else
                  f'{digest[:16]}-{time.time():.6f}')
        _write_json(osp.join(plan.stage_dir, STAGE_FILE),
                    dict(fingerprint=digest, run_id=run_id, outputs=outputs, seconds=seconds,
                         commands=plan.commands, key=plan.key))
        self.results[stage.name] = StageResult(stage.name, outputs, seconds, False,
                                               list(plan.commands), run_id)
        self.say(f'    {stage.name} done in {format_seconds(seconds)}  '
                 f'(elapsed {self.elapsed()})')


def _output_paths(outputs: Dict[str, Any]) -> List[str]:
    """Values of ``outputs`` that name files or folders (keys ending in ``_file`` or
    ``_dir``, also in nested dicts)."""
    paths = []
    for key, value in outputs.items():
        if isinstance(value, dict):
            paths += _output_paths(value)
        elif isinstance(value, str) and key.endswith(('_file', '_dir')):
            paths.append(value)
    return paths


def _outputs_exist(outputs: Dict[str, Any]) -> bool:
    return all(osp.exists(p) for p in _output_paths(outputs))


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    if not osp.isfile(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_json(path: str, data: Dict[str, Any]) -> None:
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True, default=str)
    os.replace(tmp, path)
