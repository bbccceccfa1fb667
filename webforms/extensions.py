"""The Flask extensions, created unbound and initialised in ``create_app``."""

from flask_sqlalchemy import SQLAlchemy

from engine.db import Base

db = SQLAlchemy(model_class=Base)
