"""Browser libraries installed by npm (package.json), served from node_modules: never copied into the repo."""

from flask import Blueprint, abort, send_from_directory

from server.config import ROOT

from .pictograms import pictogram_file

bp = Blueprint("vendor", __name__)
NODE_MODULES = ROOT / "node_modules"

# URL name -> file inside node_modules. Only these are served.
FILES = {
    "socket.io.esm.min.js": "socket.io-client/dist/socket.io.esm.min.js",
    "socket.io.esm.min.js.map": "socket.io-client/dist/socket.io.esm.min.js.map",
}


@bp.get("/vendor/<name>")
def vendor_file(name: str):
    """A whitelisted file from node_modules (run `npm ci` or `make run` to install them)."""
    path = FILES.get(name)
    if path is None or not (NODE_MODULES / path).is_file():
        abort(404)
    folder, _, filename = path.rpartition("/")
    return send_from_directory(NODE_MODULES / folder, filename, max_age=86400)


@bp.get("/vendor/pictograms/<name>.svg")
def pictogram(name: str):
    """A service pictogram (see server/web/pictograms.py)."""
    path = pictogram_file(name)
    if path is None or not (NODE_MODULES / path).is_file():
        abort(404)
    folder, _, filename = path.rpartition("/")
    return send_from_directory(NODE_MODULES / folder, filename, max_age=86400, mimetype="image/svg+xml")
