"""The answer to ``GET /_jobs/<id>``: the job's state as JSON, or a JSON 404
that says how long jobs are kept and what to do."""

from __future__ import annotations

from origin.convert.jobs import Job
from origin.serve.responses import Response, json_response


def job_answer(path: str, job: Job | None) -> Response:
    if job is None:
        return json_response(
            404,
            {
                "error": "not_found",
                "message": f"no such job: {path}; a job's address is the Location of the "
                "upload's 202 answer",
                "path": path,
            },
        )
    return json_response(200, job.to_json())
