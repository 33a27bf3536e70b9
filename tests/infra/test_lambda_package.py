"""`slipstream.lambda_package` on a build laid out as `sam build` lays it out (no SAM needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from slipstream.core import aws
from slipstream.lambda_package import functions_in, keep_models, main


def _function(build: Path, name: str, services: list[str]) -> Path:
    function = build / name
    data = function / "botocore" / "data"
    for service in services:
        (data / service / "2020-01-01").mkdir(parents=True)
        (data / service / "2020-01-01" / "service-2.json").write_text("{}")
    (data / "endpoints.json").write_text("{}")
    (function / "slipstream").mkdir()
    (function / "slipstream" / "handler.py").write_text("VALUE = 1\n")
    return function


def test_keeps_the_named_services_and_botocores_own_files(tmp_path: Path) -> None:
    function = _function(tmp_path, "ApiFunction", ["dynamodb", "ec2", "s3", "sqs"])
    removed = keep_models(function, ["dynamodb", "sqs"])
    assert removed == ["ec2", "s3"]
    data = function / "botocore" / "data"
    assert sorted(path.name for path in data.iterdir()) == ["dynamodb", "endpoints.json", "sqs"]
    assert (data / "dynamodb" / "2020-01-01" / "service-2.json").is_file()


def test_a_named_service_botocore_lacks_is_an_error_and_removes_nothing(tmp_path: Path) -> None:
    function = _function(tmp_path, "ApiFunction", ["dynamodb", "ec2"])
    with pytest.raises(SystemExit, match=r"no models for \['sqs'\]"):
        keep_models(function, ["dynamodb", "sqs"])
    assert (function / "botocore" / "data" / "ec2").is_dir()


def test_main_finishes_every_function_of_the_build(tmp_path: Path) -> None:
    extra = ["ec2", "lambda"]
    for name in ("ApiFunction", "StreamFunction"):
        _function(tmp_path, name, [*aws.SERVICES, *extra])
    assert [path.name for path in functions_in(tmp_path)] == ["ApiFunction", "StreamFunction"]
    main([str(tmp_path)])
    for name in ("ApiFunction", "StreamFunction"):
        data = tmp_path / name / "botocore" / "data"
        assert {path.name for path in data.iterdir() if path.is_dir()} == set(aws.SERVICES)
        (compiled,) = (tmp_path / name / "slipstream" / "__pycache__").glob("handler.*.pyc")
        assert int.from_bytes(compiled.read_bytes()[4:8], "little") == 1  # hash-based, unchecked


def test_a_folder_without_a_build_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="holds no built function"):
        main([str(tmp_path)])


def test_each_service_has_its_client_factory_named_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The build test creates every service's client through `aws.<service>()`."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.reset()
    try:
        for service in aws.SERVICES:
            assert getattr(aws, service)().meta.service_model.service_name == service
    finally:
        aws.reset()
