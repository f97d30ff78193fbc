"""Starting the server the ways the README and the Dockerfile say (issue 2,
points 1 and 10)."""

import json
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.helpers.servers import REPO, start_server, write_config

SCRIPT = Path(sys.executable).parent / "media-origin"


def copy_default_setup(directory: Path) -> None:
    shutil.copy(REPO / "config.toml", directory / "config.toml")
    shutil.copytree(REPO / "media", directory / "media")


def test_console_script_serves_the_shipped_default(tmp_path):
    """``media-origin serve`` in a folder with the shipped config.toml and media/."""
    copy_default_setup(tmp_path)
    with (
        start_server(
            tmp_path / "config.toml",
            tmp_path / "media",
            command=[str(SCRIPT), "serve"],
            cwd=tmp_path,
        ) as server,
        server.client() as http,
    ):
        promo = http.get("/campaigns/promo.png")
        assert promo.status_code == 200
        assert promo.headers["content-type"] == "image/png"
        assert promo.headers["cache-control"] == "max-age=604800, immutable"
        assert http.head("/catalog/price-list.pdf").headers["cache-control"] == "no-cache"
        invoice = http.head("/invoices/INV-0001.pdf")
        assert invoice.headers["cache-control"] == "private, no-store"
        assert "etag" not in invoice.headers
        assert http.get("/welcome.txt").text.startswith("Hello from media-origin")


def test_granian_serves_the_shipped_default_and_passes_the_config_on(tmp_path):
    copy_default_setup(tmp_path)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    command = [
        str(SCRIPT),
        "serve",
        "--config",
        str(tmp_path / "config.toml"),
        "--server",
        "granian",
    ]
    with (
        start_server(
            tmp_path / "config.toml", tmp_path / "media", command=command, cwd=elsewhere
        ) as server,
        server.client() as http,
    ):
        response = http.get("/campaigns/promo.png")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "max-age=604800, immutable"


def test_without_a_config_file_the_built_in_default_serves_media(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.txt").write_text("built-in")
    with (
        start_server(
            tmp_path / "none", tmp_path / "media", command=[str(SCRIPT), "serve"], cwd=tmp_path
        ) as server,
        server.client() as http,
    ):
        response = http.get("/a.txt")
        assert response.text == "built-in"
        assert response.headers["cache-control"] == "max-age=86400"


def test_without_config_or_media_the_error_says_what_is_missing(tmp_path):
    result = subprocess.run(
        [str(SCRIPT), "serve"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "no ./config.toml" in result.stderr and "storage.root" in result.stderr


def test_config_from_the_environment(tmp_path):
    copy_default_setup(tmp_path)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    with (
        start_server(
            tmp_path / "config.toml",
            tmp_path / "media",
            command=[str(SCRIPT), "serve"],
            cwd=elsewhere,
            env={"MEDIA_ORIGIN_CONFIG": str(tmp_path / "config.toml")},
        ) as server,
        server.client() as http,
    ):
        assert http.head("/welcome.txt").status_code == 200


def test_uvicorn_factory(tmp_path):
    copy_default_setup(tmp_path)
    with (
        start_server(
            tmp_path / "config.toml",
            tmp_path / "media",
            command=[sys.executable, "-m", "uvicorn", "--factory", "origin.app:create_app"],
            env={"MEDIA_ORIGIN_CONFIG": str(tmp_path / "config.toml")},
        ) as server,
        server.client() as http,
    ):
        response = http.get("/campaigns/promo.png")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "max-age=604800, immutable"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--port", "http"], "is not a port number"),
        (["serve", "--port", "0"], "not a TCP port"),
        (["serve", "--bogus"], "unrecognized arguments"),
        (["serve", "--server", "gunicorn"], "invalid choice: 'gunicorn'"),
        ([], "required"),
    ],
)
def test_bad_command_lines(args, message):
    result = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert message in result.stderr


def test_version():
    result = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, timeout=30)
    assert result.stdout.startswith("media-origin ")


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    lines, current = [], ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            keyword, _, rest = current.strip().partition(" ")
            lines.append((keyword.upper(), rest))
            current = ""
    known = {
        "FROM",
        "ENV",
        "RUN",
        "WORKDIR",
        "COPY",
        "USER",
        "EXPOSE",
        "VOLUME",
        "CMD",
        "HEALTHCHECK",
    }
    assert {keyword for keyword, _ in lines} <= known
    return lines


class TestDockerfile:
    """No Docker engine runs here: check what it says, and run the command it runs."""

    def values(self, instructions, keyword):
        return [rest for key, rest in instructions if key == keyword]

    def test_it_says_what_the_issue_asks(self, instructions):
        assert instructions[0][0] == "FROM" and instructions[0][1].endswith("-slim")
        users = self.values(instructions, "USER")
        assert users and users[-1] not in ("root", "0")
        assert self.values(instructions, "EXPOSE") == ["8080"]
        env = " ".join(self.values(instructions, "ENV"))
        assert "MEDIA_ORIGIN_CONFIG=/etc/media-origin/config.toml" in env
        assert "docker/config.toml /etc/media-origin/config.toml" in self.values(
            instructions, "COPY"
        )
        for source in (rest.split()[0] for rest in self.values(instructions, "COPY")):
            assert (REPO / source).exists(), source

    def test_its_healthcheck_probes_healthz_and_works(self, instructions, tmp_path):
        (check,) = self.values(instructions, "HEALTHCHECK")
        command = check.split(" CMD ", 1)[1]
        assert "/healthz" in command
        (tmp_path / "media").mkdir()
        config = write_config(tmp_path, "")
        with start_server(config, tmp_path / "media") as server:
            probe = command.replace("127.0.0.1:8080", f"127.0.0.1:{server.port}")
            python_code = probe.split('"', 1)[1].rsplit('"', 1)[0]
            assert subprocess.run([sys.executable, "-c", python_code], timeout=30).returncode == 0

    def test_the_config_it_ships_serves_data_on_all_interfaces(self):
        document = tomllib.loads((REPO / "docker" / "config.toml").read_text())
        assert document["server"]["host"] == "0.0.0.0"
        assert document["server"]["port"] == 8080
        assert document["storage"]["root"] == "/data"

    def test_its_command_serves_with_its_config(self, instructions, tmp_path):
        command = json.loads(self.values(instructions, "CMD")[-1])
        data = tmp_path / "data"
        (data / "campaigns").mkdir(parents=True)
        (data / "campaigns" / "a.jpg").write_bytes(b"\xff\xd8")
        config = tmp_path / "config.toml"
        # The container's config, with /data moved to where this test can write.
        config.write_text(
            (REPO / "docker" / "config.toml").read_text().replace('"/data"', f'"{data}"')
        )
        command[0] = str(Path(sys.executable).parent / command[0])
        with (
            start_server(
                config, data, command=command, env={"MEDIA_ORIGIN_CONFIG": str(config)}
            ) as server,
            server.client() as http,
        ):
            response = http.get("/campaigns/a.jpg")
            assert response.status_code == 200
            # The image's config has the shipped folder policies (issue 11, Docker).
            assert response.headers["cache-control"] == "max-age=604800, immutable"


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_several_workers(tmp_path, server):
    from tests.helpers.servers import process_tree as _process_tree

    copy_default_setup(tmp_path)
    command = [str(SCRIPT), "serve", "--config", str(tmp_path / "config.toml"), "--workers", "2"]
    with (
        start_server(
            tmp_path / "config.toml", tmp_path / "media", command=[*command, "--server", server]
        ) as running,
        running.client() as http,
    ):
        etags = {http.get("/campaigns/promo.png").headers["etag"] for _ in range(20)}
        assert len(etags) == 1
        deadline = time.monotonic() + 10
        while len(_process_tree(running.process.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_process_tree(running.process.pid)) >= 3  # a supervisor and two workers


def test_workers_must_be_a_small_whole_number():
    result = subprocess.run(
        [str(SCRIPT), "serve", "--workers", "0"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and "not a number of workers" in result.stderr


@pytest.mark.parametrize("first", ["granian", "uvicorn"])
@pytest.mark.parametrize("second", ["granian", "uvicorn"])
def test_a_second_serve_on_a_served_port_is_refused(tmp_path, first, second):
    """Issue 11, item 1: granian would share the port (SO_REUSEPORT) and split the
    traffic; uvicorn would bury an [Errno 98]. Refused, in one line, exit 2."""
    copy_default_setup(tmp_path)
    config = str(tmp_path / "config.toml")
    with start_server(tmp_path / "config.toml", tmp_path / "media", server=first) as running:
        address = ["--host", "127.0.0.1", "--port", str(running.port)]
        result = subprocess.run(
            [str(SCRIPT), "serve", "--config", config, "--server", second, *address],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2, result.stderr
        (line,) = [line for line in result.stderr.splitlines() if "warning" not in line]
        assert line.startswith(
            f"media-origin serve: 127.0.0.1:{running.port} is already served by pid "
            f"{running.process.pid} ("
        ), line
        assert "Traceback" not in result.stderr and "Errno" not in result.stderr
        with running.client() as http:
            assert http.get("/welcome.txt").status_code == 200


def test_a_lone_granian_worker_does_not_share_its_port(tmp_path):
    """Port reuse only where the product starts several workers: a lone granian
    worker's socket refuses even a binder that asks for SO_REUSEPORT."""
    import socket

    copy_default_setup(tmp_path)
    with start_server(tmp_path / "config.toml", tmp_path / "media", server="granian") as running:
        with socket.socket() as intruder:
            intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            with pytest.raises(OSError):
                intruder.bind(("127.0.0.1", running.port))
        with running.client() as http:
            assert http.get("/welcome.txt").status_code == 200


def test_serve_on_an_address_of_another_machine_is_one_line(tmp_path):
    copy_default_setup(tmp_path)
    result = subprocess.run(
        [str(SCRIPT), "serve", "--host", "192.0.2.1", "--port", "8080"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "cannot serve on 192.0.2.1:8080" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_serve_beside_several_granian_workers_names_their_supervisor(tmp_path):
    """Several granian workers share the port by SO_REUSEPORT, each with its own
    socket: the second serve is still refused, and told the process to stop."""
    copy_default_setup(tmp_path)
    config = tmp_path / "config.toml"
    with start_server(
        config, tmp_path / "media", server="granian", extra_args=("--workers", "2")
    ) as running:
        address = ["--host", "127.0.0.1", "--port", str(running.port)]
        result = subprocess.run(
            [str(SCRIPT), "serve", "--config", str(config), *address],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2
        assert f"is already served by pid {running.process.pid} (" in result.stderr
