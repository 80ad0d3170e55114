from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "simulator"

    def ready(self) -> None:
        from courseware import embeds, slots
        from simulator import embed, lesson_figures, outage_embed

        embeds.register(embeds.Embed(
            name="simulator",
            label="Latency simulator",
            template=embed.TEMPLATE,
            context=embed.context,
        ))
        embeds.register(embeds.Embed(
            name="outage-lab",
            label="Outage lab",
            template=outage_embed.TEMPLATE,
            context=outage_embed.context,
        ))
        lesson_figures.register()
        slots.fill("home-actions", "simulator/_home_actions.html")
        slots.fill("drill-result", "simulator/_drill_result.html")
