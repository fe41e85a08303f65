"""The main job: the whole loop on simulated days, from raw data to a promoted retrain.

``run`` drives it (``run_loop``); ``config`` holds what it is asked and what it
answers; ``build`` makes the world and the first champion; ``stages`` moves a
challenger through shadow and canary; ``summary`` turns the served log into the
weekly table and the summary page. Import from those modules: this package imports
nothing, so that the command line can check a ``LoopConfig`` before loading the rest.
"""
