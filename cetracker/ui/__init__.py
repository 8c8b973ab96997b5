"""Streamlit helpers shared by the pages: the only part of ``cetracker`` that imports Streamlit."""
