"""Binding the engine's models to the Flask app; the request owns the transaction."""

from flask import Flask
from flask_migrate import Migrate

from engine import db as engine_db

from .extensions import db

migrate = Migrate()


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(__import__("pathlib").Path(__file__).parent / "migrations"))
    with app.app_context():
        engine_db.configure(db.engine)
