"""Engine errors → HTTP status codes, in one place. API paths get JSON, pages get HTML."""

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from engine.errors import (
    Conflict,
    EngineError,
    Forbidden,
    Invalid,
    NotFound,
    ScriptError,
    TooManyAttempts,
)

from .extensions import db

STATUS = {NotFound: 404, TooManyAttempts: 429, Forbidden: 403, Conflict: 409, Invalid: 422, ScriptError: 422}


def status_for(error: EngineError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def engine_error(error: EngineError):
        db.session.rollback()
        status = status_for(error)
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, TooManyAttempts) else {}
        if _wants_json():
            return jsonify(error.to_dict()), status, headers
        from flask import render_template

        return render_template("error.html", error=error, status=status), status, headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if not _wants_json():
            return error
        # the exception's own headers travel with the JSON (405's ``Allow``, 429's ``Retry-After``)
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return jsonify({"error": error.name.lower().replace(" ", "_"), "message": error.description}), error.code, headers
