def test_a_ticket_goes_from_kiosk_to_counter_to_done(api):
    issued = api.post("/offices/mitte/tickets", "kiosk", json={"service": "ausweis"})
    assert issued.status_code == 201, issued.json
    assert issued.json["code"] == "A001"
    called = api.post("/offices/mitte/counters/schalter-1/call-next", "clerk")
    assert called.status_code == 200
    assert called.json["id"] == issued.json["id"]
    assert called.json["counter"] == "schalter-1"
    tid = called.json["id"]
    assert api.post(f"/tickets/{tid}/start", "clerk").json["state"] == "serving"
    assert api.post(f"/tickets/{tid}/finish", "clerk").json["state"] == "done"
    assert api.post("/offices/mitte/counters/schalter-1/call-next", "clerk").status_code == 204
