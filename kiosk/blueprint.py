"""The kiosk room's blueprint: its pages live at /kiosk/<office> and /t/<public token>."""

from flask import Blueprint

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
               static_url_path="/kiosk/static")
