from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "simulator"

    def ready(self) -> None:
        from courseware import embeds, problems, slots
        from simulator import embed, lesson_figures, outage_embed
        from simulator.problems import P99_SUM

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
        problems.register(P99_SUM)
        slots.fill("home-actions", "simulator/_home_actions.html")
        slots.fill("drill-result", "simulator/_drill_result.html")
        slots.fill("own-design", "simulator/_own_design.html")
