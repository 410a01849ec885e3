"""The central server: enrolment, signed journal upload, configuration push,
store reports. An ASGI application on uvicorn, storage through SQLAlchemy
(SQLite by default, PostgreSQL by URL), schema by Alembic."""
