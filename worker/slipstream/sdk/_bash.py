"""`BashOperator`: run a shell command; its last line of output becomes the XCom."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from slipstream.sdk._baseoperator import BaseOperator
from slipstream.sdk._exceptions import AirflowException, AirflowSkipException

if TYPE_CHECKING:
    from slipstream.sdk._context import Context


class BashOperator(BaseOperator):
    """Runs `bash -c bash_command` (templated). Output goes to the task log line by line; exit
    code `skip_on_exit_code` (99) skips the task, any other non-zero code fails it."""

    template_fields: ClassVar[Sequence[str]] = ("bash_command", "env", "cwd")

    def __init__(
        self,
        *,
        bash_command: str = "",
        env: dict[str, str] | None = None,
        append_env: bool = False,
        cwd: str | None = None,
        skip_on_exit_code: int = 99,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.cwd = cwd
        self.skip_on_exit_code = skip_on_exit_code

    def execute(self, context: Context) -> str | None:
        return self.run_command(self.bash_command)

    def run_command(self, command: str) -> str | None:
        env = None if self.env is None else (os.environ | self.env if self.append_env else self.env)
        last: str | None = None
        with subprocess.Popen(
            ["bash", "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.cwd,
            text=True,
            errors="replace",
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.write(line)
                last = line.rstrip("\n")
        if proc.returncode == self.skip_on_exit_code:
            raise AirflowSkipException(f"bash command exited with {proc.returncode}")
        if proc.returncode != 0:
            raise AirflowException(f"bash command failed with exit code {proc.returncode}")
        return last
