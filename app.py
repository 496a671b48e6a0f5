"""Streamlit app (UI only; all logic lives in the ``locator`` package)."""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

from locator import load_cities, load_outlets

st.set_page_config(page_title="ACME 售后网点查询 · locator", layout="wide")
st.title("Outlet locator")
st.warning("Sample data: the outlets of ACME家电 are synthetic (a fictional brand).")


@st.cache_data
def _data():
    return load_cities(), load_outlets()


cities, outlets = _data()
m = folium.Map(location=[34, 110], zoom_start=4, tiles="OpenStreetMap")
for row in outlets.itertuples():
    folium.CircleMarker([row.lat, row.lon], radius=4, color="#1565c0").add_to(m)
st_folium(m, height=600, returned_objects=[])
