from seed.commands import register as register_seed_commands
from webapp import create_app

app = create_app()
register_seed_commands(app)  # seed-demo, generate-history: imported only when one of them runs
