from tests.builders import register_importer, walk_assessment, ASSESSMENT_STATES
def test_smoke(app, clock):
    n = register_importer(app)
    for s in ASSESSMENT_STATES:
        num = walk_assessment(app, register_importer(app), s, clock=clock)
        assert app.get_assessment(num).state.value == s
    print(app.recorder.max_notification_id())
