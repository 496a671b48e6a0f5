"""Every display label, in Chinese and English: one catalogue, used everywhere.

:data:`MESSAGES` maps a message id (``"find.query"``) to its text in each of
:data:`LANGUAGES`; :func:`message` picks one and fills its ``{placeholders}``.
:data:`COLUMNS` does the same for table headers (keyed by the column name the library
uses, ``share_covered`` -> 覆盖率 / Covered). The Streamlit app shows these in the
language chosen (中文 by default); the map legend (:mod:`locator.maps`) takes the same
ids, and where a page serves both audiences at once (the embeddable map, popups) it
shows :func:`both` ("服务中心 Service center"). The API and the data files use the
canonical keys (``service_center``, ``washer``, ...), and :mod:`locator.data` accepts
the common spellings (服务中心, 维修中心, 特约维修点, 冰箱, fridge, ...) as input.
This module imports nothing, so any layer can use it.

Why these words: each label says the same thing in English and Chinese, and a kind
label never claims authorization. Whether an outlet is authorized is a separate fact
(the ``authorized`` flag), shown apart ("Not authorized 非授权", a grey dashed pin);
"Authorized repair point 特约维修点" on an unauthorized listing would contradict that
warning, and fake listings call themselves exactly that. 服务中心 is also how the
network's own centers are named (``…服务中心`` in the sample data) and what customers
type.
"""

from __future__ import annotations

__all__ = [
    "CATEGORY_LABELS",
    "COLUMNS",
    "DEFAULT_LANGUAGE",
    "KIND_LABELS",
    "LANGUAGES",
    "MESSAGES",
    "NOT_AUTHORIZED",
    "both",
    "column",
    "message",
]

#: The languages of the catalogue; the first is the default.
LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

_KINDS = {
    "service_center": ("服务中心", "Service center"),
    "repair_point": ("维修点", "Repair point"),
}
_CATEGORIES = {
    "refrigerator": ("冰箱", "Refrigerator"),
    "washer": ("洗衣机", "Washer"),
    "air_conditioner": ("空调", "Air conditioner"),
    "water_heater": ("热水器", "Water heater"),
    "tv": ("电视", "TV"),
}

# fmt: off
#: Message id -> {language: text}. ``{name}`` placeholders are filled by :func:`message`.
MESSAGES: dict[str, dict[str, str]] = {
    # --- outlet kinds, categories, authorization (also the map legend)
    **{f"kind.{k}": {"zh": zh, "en": en} for k, (zh, en) in _KINDS.items()},
    **{f"category.{k}": {"zh": zh, "en": en} for k, (zh, en) in _CATEGORIES.items()},
    "not_authorized": {"zh": "非授权", "en": "Not authorized"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "NO"},
    # --- map legend
    "legend.origin": {"zh": "查询位置", "en": "Search origin"},
    "legend.gap": {"zh": "未覆盖地点（大小 = 人口）", "en": "Uncovered place (size = pop.)"},
    "layer.outlets": {"zh": "网点", "en": "Outlets"},
    "layer.service_areas": {"zh": "服务范围", "en": "Service areas"},
    "layer.gaps": {"zh": "未覆盖", "en": "Coverage gaps"},
    "layer.cities": {"zh": "城市覆盖", "en": "Listed cities"},
    "layer.search": {"zh": "搜索结果", "en": "Search"},
    "legend.city_covered": {"zh": "城市覆盖率", "en": "City covered"},
    # --- page and sidebar
    "app.title": {"zh": "售后网点查询", "en": "Outlet locator"},
    "app.language": {"zh": "语言 Language", "en": "语言 Language"},
    "app.sample": {
        "zh": "**示例数据。** 图中网点属于虚构品牌 *ACME家电*：位置为合成数据，电话为 "
              "`000-555` 号段。请在 **网点数据** 中上传您的网点。",
        "en": "**Sample data.** The outlets shown belong to *ACME家电*, a fictional brand: "
              "synthetic locations and `000-555` phone numbers. Upload your network under "
              "**Network data**.",
    },
    "app.network_store": {"zh": "网点来源：网点库（{n} 个营业网点）。",
                          "en": "Network: the store ({n} open outlets)."},
    "app.network_file": {"zh": "网点来源：上传文件 **{name}**（{n} 个网点）。",
                         "en": "Network: uploaded file **{name}** ({n} outlets)."},
    "app.basemap": {"zh": "底图", "en": "Basemap"},
    "app.counts": {
        "zh": "共 {listings} 条网点记录，其中授权网点 {authorized} 个；{cities} 个服务城市；"
              "{places} 个 GeoNames 地点（CC-BY 4.0）。",
        "en": "{authorized} authorized outlets of {listings} listings; {cities} listed "
              "cities; {places} GeoNames places (CC-BY 4.0).",
    },
    "app.drive_note": {
        "zh": "驾车时间为估算：直线距离 × {circuity} 绕行系数，前 {urban_km} 公里按 "
              "{urban_kmh} km/h，其后按 {highway_kmh} km/h{over}；承诺 = {promise} 分钟内上门。",
        "en": "Drive times are estimates: geodesic km x {circuity} circuity, first "
              "{urban_km} road km at {urban_kmh} km/h, then {highway_kmh} km/h{over}; "
              "promise = on site within {promise} min.",
    },
    "app.drive_overhead": {"zh": "，另加 {m} 分钟", "en": " + {m} min overhead"},
    "tile.osm": {"zh": "OpenStreetMap（WGS-84）", "en": "OpenStreetMap (WGS-84)"},
    "tile.amap": {"zh": "高德地图（GCJ-02）", "en": "AMap 高德 (GCJ-02)"},
    "tile.none": {"zh": "无底图（离线）", "en": "No basemap (offline)"},
    "spinner.index": {"zh": "正在建立网点索引…", "en": "Indexing outlets…"},
    "spinner.coverage": {"zh": "正在计算到各地点的距离…",
                         "en": "Measuring distances to every place…"},
    "spinner.areas": {"zh": "正在绘制服务范围…", "en": "Drawing service areas…"},
    "spinner.sites": {"zh": "正在选址…", "en": "Choosing sites…"},
    "spinner.page": {"zh": "正在生成页面…", "en": "Building the page…"},
    "spinner.gazetteer": {"zh": "正在载入地名库…", "en": "Loading the gazetteer…"},
    "tab.find": {"zh": "查找网点", "en": "Find a center"},
    "tab.coverage": {"zh": "覆盖分析", "en": "Coverage"},
    "tab.data": {"zh": "网点数据", "en": "Network data"},
    "tab.embed": {"zh": "嵌入", "en": "Embed"},
    "tab.load": {"zh": "网点负荷", "en": "Outlet load"},
    # --- load view (orders per outlet)
    "load.coord_sys": {"zh": "订单坐标系", "en": "Coordinate system of the orders"},
    "load.coord_sys_help": {"zh": "高德、腾讯导出的坐标为 GCJ-02，百度为 BD-09；"
                                  "计算距离前转换为 WGS-84。",
                            "en": "AMap and Tencent exports are GCJ-02, Baidu's BD-09; they "
                                  "are converted to WGS-84 before distances are computed."},
    "load.cs_wgs84": {"zh": "WGS-84（GPS、OpenStreetMap）", "en": "WGS-84 (GPS, OpenStreetMap)"},
    "load.cs_gcj02": {"zh": "GCJ-02（高德、腾讯）", "en": "GCJ-02 (AMap, Tencent)"},
    "load.cs_bd09": {"zh": "BD-09（百度）", "en": "BD-09 (Baidu)"},
    "load.intro": {
        "zh": "上传订单文件（CSV，含日期和经纬度，或 `locator assign` 的输出），查看各网点每日、"
              "每周订单量、服务距离、超出 2 小时上门承诺的订单比例，以及是否超出日接单能力。",
        "en": "Upload an orders file (CSV with a date and lat/lon, or the output of "
              "`locator assign`) to see orders per outlet per day and week, service "
              "distances, the share beyond the 2-hour on-site promise and overloaded outlets.",
    },
    "load.file": {"zh": "订单文件（CSV）", "en": "Orders file (CSV)"},
    "load.capacity_file": {"zh": "日接单能力（可选：outlet_id,capacity_per_day）",
                           "en": "Capacity per day (optional: outlet_id,capacity_per_day)"},
    "load.sample": {
        "zh": "正在使用内置的**合成**示例订单（虚构品牌，20,000 单，8 周）："
              "数字不代表任何真实网络。",
        "en": "Using the bundled **synthetic** sample orders (fictional brand, 20,000 orders "
              "over 8 weeks): no figure describes a real network.",
    },
    "load.using": {"zh": "正在使用订单文件 {name}", "en": "Using the orders file {name}"},
    "load.refused": {"zh": "订单文件 {name} 有 {n} 处问题，未使用：",
                     "en": "{name} has {n} problem(s) and was not used:"},
    "load.orders": {"zh": "订单", "en": "Orders"},
    "load.orders_of": {"zh": "{days} 天（{start} 至 {end}）",
                       "en": "{days} days ({start} to {end})"},
    "load.beyond": {"zh": "超出 2 小时承诺", "en": "Beyond the 2-hour promise"},
    "load.overloaded_n": {"zh": "超负荷网点", "en": "Overloaded outlets"},
    "load.of_outlets": {"zh": "共 {n} 个网点", "en": "of {n} outlets"},
    "load.no_capacity": {"zh": "未提供日接单能力", "en": "no capacity given"},
    "load.left_out": {
        "zh": "{undated} 单无日期、{unassigned} 单无网点，未计入。",
        "en": "{undated} order(s) without a date and {unassigned} without an outlet were "
              "left out.",
    },
    "load.caption": {
        "zh": "每日指标按订单文件的整个时段计算（无订单的日子记为 0）；"
              "超负荷 = 每日订单量的 95% 分位高于日接单能力。驾车时间为估算值。",
        "en": "Daily figures cover the whole period of the file (days without orders count "
              "as 0); overloaded = p95 of daily orders above capacity. Drive times are "
              "estimates.",
    },
    "load.dl_outlets": {"zh": "下载网点负荷（CSV）", "en": "Download load per outlet (CSV)"},
    "load.dl_daily": {"zh": "下载每日明细（CSV）", "en": "Download daily rows (CSV)"},
    "load.tip_orders": {"zh": "日均 {mean} 单，95% 分位 {p95} 单",
                        "en": "{mean} orders/day, p95 {p95}"},
    "load.tip_capacity": {"zh": "日接单能力 {cap}，使用率 {use}%",
                          "en": "capacity {cap}/day, {use}% used (p95)"},
    "load.overloaded": {"zh": "超负荷", "en": "Overloaded"},
    "load.legend_size": {"zh": "圆圈大小 = 日均订单", "en": "Circle size = orders per day"},
    "load.legend_over": {"zh": "超负荷", "en": "Overloaded"},
    "load.legend_busy": {"zh": "繁忙（>80% 能力）", "en": "Busy (>80% of capacity)"},
    "load.legend_ok": {"zh": "能力范围内", "en": "Within capacity"},
    "load.legend_none": {"zh": "未知能力", "en": "Capacity unknown"},
    "layer.load": {"zh": "网点负荷", "en": "Outlet load"},
    # --- sign in
    "auth.heading": {"zh": "登录", "en": "Sign in"},
    "auth.token": {"zh": "API 令牌", "en": "API token"},
    "auth.token_help": {
        "zh": "由 `locator token create --role editor --name NAME` 生成：编辑者可修改网点，"
              "管理员还可授予或撤销授权。",
        "en": "A token from `locator token create --role editor --name NAME`: editors "
              "change outlets, admins also grant and revoke authorizations.",
    },
    "auth.signed_in": {"zh": "已登录：**{name}**（{role}）。",
                       "en": "Signed in as **{name}** ({role})."},
    "auth.sign_out": {"zh": "退出登录", "en": "Sign out"},
    "auth.unknown": {"zh": "令牌无效或已撤销。", "en": "Unknown or revoked token."},
    # --- find
    "find.query": {"zh": "地址、区县或城市", "en": "Address, district or city"},
    "find.placeholder": {"zh": "例如 深圳南山区科技园 · 西安 · 朝阳区 · hangzhou",
                         "en": "e.g. 深圳南山区科技园 · Xi'an · 朝阳区 · hangzhou"},
    "find.query_help": {"zh": "中文、拼音或英文均可，也可点击地图。",
                        "en": "Chinese, pinyin or English. Or click on the map."},
    "find.kind": {"zh": "网点类型", "en": "Kind"},
    "find.repairs": {"zh": "维修品类", "en": "Repairs"},
    "find.k": {"zh": "显示数量", "en": "How many"},
    "find.max_km": {"zh": "范围（公里，0 = 不限）", "en": "Within km (0 = any)"},
    "find.unauth": {"zh": "包含非授权网点", "en": "Include unauthorized listings"},
    "find.unauth_help": {"zh": "默认不包含：只应把顾客引导到授权网点。",
                         "en": "Off by default: customers should only be sent to "
                               "authorized outlets."},
    "find.open_now": {"zh": "营业中", "en": "Open now"},
    "find.open_now_help": {
        "zh": "只列出现在营业的网点（北京时间；已计入法定节假日和调休）。"
              "营业时间未知的网点列在其后。",
        "en": "Only outlets open now (Asia/Shanghai; Chinese public holidays and make-up "
              "workdays counted). Outlets with unknown hours are listed after them.",
    },
    "find.map_point": {"zh": "地图点 {lat}, {lon}", "en": "Map point {lat}, {lon}"},
    "find.map_point_near": {"zh": "（{near}附近）", "en": " (near {near})"},
    "find.hint": {"zh": "输入地址、区县或城市，或点击地图。",
                  "en": "Type an address, district or city — or click on the map."},
    "find.clear_point": {"zh": "清除地图点", "en": "Clear map point"},
    "find.nearest_to": {"zh": "离 {place} 最近的网点", "en": "Nearest to {place}"},
    "find.none_open": {"zh": "没有符合条件且正在营业的网点。",
                       "en": "No outlet matching these filters is open now."},
    "find.none": {"zh": "没有符合条件的网点。", "en": "No outlet matches these filters."},
    "find.none_within": {"zh": "{km} 公里内没有网点。最近的网点距离 **{nearest}**。",
                         "en": "No outlet within {km} km. The nearest is **{nearest}** away."},
    "find.drive": {"zh": "驾车{minutes}（估算）", "en": "{minutes} drive (est.)"},
    "find.filters": {"zh": "筛选条件", "en": "Filters"},
    "find.directions": {"zh": "路线", "en": "directions"},
    "find.routes": {"zh": "路线：{links}", "en": "directions: {links}"},
    "link.amap": {"zh": "高德", "en": "AMap"},
    "link.baidu": {"zh": "百度", "en": "Baidu"},
    "find.call": {"zh": "拨打", "en": "call"},
    "find.all_results": {"zh": "全部结果（表格）", "en": "All results (table)"},
    "find.caption": {"zh": "距离为 WGS-84 椭球面上的直线距离，不是道路距离。",
                     "en": "Distances are geodesic (WGS-84 ellipsoid), not routes."},
    "find.no_place": {
        "zh": "找不到“{query}”{reason}。请尝试城市或区县名称（中文、拼音或英文），或点击地图。",
        "en": "No place found for “{query}”{reason}. Try a city or district name "
              "(中文, pinyin or English), or click on the map.",
    },
    "find.which": {"zh": "“{query}”对应 {n} 个地点，请选择：",
                   "en": "“{query}” matches {n} places — which one?"},
    "find.pop": {"zh": "人口 {pop}", "en": "pop. {pop}"},
    "find.authorized_badge": {"zh": "授权网点", "en": "authorized"},
    # --- verify
    "verify.heading": {"zh": "核实网点", "en": "Verify a listing"},
    "verify.caption": {
        "zh": "在搜索页面或传单上看到“官方服务中心”？用电话（任何写法）或名称在本网点网络中核实。",
        "en": "Found an “official service center” on a search page or a flyer? Check its "
              "phone number (any spelling) or name against this network.",
    },
    "verify.phone": {"zh": "电话", "en": "Phone"},
    "verify.name": {"zh": "名称/地址", "en": "Name or address"},
    "verify.city": {"zh": "城市", "en": "City"},
    "verify.nearest": {"zh": "**离{place}最近的授权网点：**",
                       "en": "**Nearest authorized outlets to {place}:**"},
    "verify.flag": {"zh": "已记录的标记", "en": "recorded flag"},
    "verify.audit": {"zh": "审核", "en": "audit"},
    "verify.place_given": {"zh": "所给地点", "en": "the place given"},
    # --- coverage
    "cov.reach_by": {"zh": "覆盖方式", "en": "Reach by"},
    "cov.by_km": {"zh": "距离（公里）", "en": "Distance (km)"},
    "cov.by_drive": {"zh": "驾车时间（估算）", "en": "Drive time (estimate)"},
    "cov.radius": {"zh": "半径（公里）", "en": "Radius (km)"},
    "cov.minutes": {"zh": "驾车时间（分钟）", "en": "Drive time (min)"},
    "cov.covered": {"zh": "人口覆盖率", "en": "Population covered"},
    "cov.covered_of": {"zh": "{covered} / {total} 人", "en": "{covered} of {total} people"},
    "cov.backup": {"zh": "双重覆盖（≥ 2 个网点）", "en": "Backup (≥ 2 outlets)"},
    "cov.people": {"zh": "{n} 人", "en": "{n} people"},
    "cov.median": {"zh": "距离中位数", "en": "Median distance"},
    "cov.p90": {"zh": "90% 分位 {km}，按人口加权", "en": "p90 {km}, population-weighted"},
    "cov.uncovered": {"zh": "未覆盖地点", "en": "Places uncovered"},
    "cov.of_places": {"zh": "共 {n} 个地点", "en": "of {n} places"},
    "cov.caption": {
        "zh": "半径 {km}（直线距离）。人口 = GeoNames 中人口 ≥ 1,000 的地点（城区人口，不完整）："
              "覆盖率均基于这一需求层。",
        "en": "Radius {km} (geodesic). Population = GeoNames places ≥ 1,000 people "
              "(city-proper figures, incomplete): shares are of this demand layer.",
    },
    "cov.no_outlet": {"zh": "没有自己授权网点的服务城市：{names}",
                      "en": "Listed cities with no authorized outlet of their own: {names}"},
    "cov.show_areas": {"zh": "显示服务范围", "en": "Show service areas"},
    "cov.by_district": {"zh": "按区县着色（覆盖率）", "en": "Colour districts by share covered"},
    "cov.district_caption": {
        "zh": "区县按可达人口比例着色；灰色 = 无人口数据（该区县没有 GeoNames 地点），不是 0 %。",
        "en": "Districts are coloured by the share of their population within reach; grey = "
        "no demand data (no GeoNames place in the district), not 0 %.",
    },
    "cov.district_table": {"zh": "区县（表格）", "en": "Districts (table)"},
    "cov.curve": {"zh": "覆盖曲线：再扩大范围从哪里开始不划算？",
                  "en": "Coverage curve: where does more reach stop paying?"},
    "cov.curve_caption": {
        "zh": "在每个范围内有一个（及两个）授权网点的人口比例（%）。",
        "en": "Share (%) of the demand layer's population with an authorized outlet (and "
        "with two) within each reach.",
    },
    "find.former": {"zh": "曾用名：{note}。", "en": "Former name: {note}."},
    "cov.tab_cities": {"zh": "服务城市", "en": "Listed cities"},
    "cov.tab_provinces": {"zh": "省份", "en": "Provinces"},
    "cov.tab_gaps": {"zh": "最大缺口", "en": "Largest gaps"},
    "cov.tab_sites": {"zh": "建议选址", "en": "Suggested sites"},
    "cov.new_sites": {"zh": "新增网点数", "en": "New sites"},
    "cov.suggest": {"zh": "建议选址", "en": "Suggest sites"},
    "cov.suggested": {"zh": "新增 {p} 个网点可将覆盖人口从 {before} 提高到 {after}。",
                      "en": "{p} new site(s) would raise coverage from {before} to "
                            "{after} people."},
    "cov.suggest_note": {"zh": "贪心最大覆盖，现有网点固定；候选点 = 各地点。",
                         "en": "Greedy maximal coverage with existing outlets fixed; "
                               "candidates = places."},
    "cov.dl_areas": {"zh": "服务范围（GeoJSON）", "en": "Service areas (GeoJSON)"},
    "cov.dl_gaps": {"zh": "缺口（CSV）", "en": "Gaps (CSV)"},
    "cov.dl_cities": {"zh": "城市（CSV）", "en": "Cities (CSV)"},
    # --- what-if scenarios (#15 §4)
    "scen.title": {"zh": "假设方案 / What-if", "en": "What-if scenarios 假设方案"},
    "scen.intro": {"zh": "关闭现有网点、加入建议选址，看覆盖如何变化。方案不会改动实际网点。",
                   "en": "Switch outlets off and add suggested sites to see how coverage "
                         "changes. A scenario never changes the real network."},
    "scen.off": {"zh": "关闭的网点", "en": "Outlets to switch off"},
    "scen.add": {"zh": "加入的建议选址", "en": "Suggested sites to add"},
    "scen.site": {"zh": "{rank}. {place}（{city}，+{gain} 人）",
                  "en": "{rank}. {place} ({city}, +{gain} people)"},
    "scen.no_sites": {"zh": "没有可增加覆盖的建议选址。",
                      "en": "No suggested site would add coverage."},
    "scen.points": {"zh": "在地图上或按坐标加入的候选点",
                    "en": "Candidates placed on the map or by coordinates"},
    "scen.coords": {"zh": "坐标（纬度, 经度，WGS-84）", "en": "Coordinates (lat, lon, WGS-84)"},
    "scen.add_point": {"zh": "加入", "en": "Add"},
    "scen.point": {"zh": "候选点 {n}：{lat}, {lon} {place}",
                   "en": "Candidate {n}: {lat}, {lon} {place}"},
    "scen.point_name": {"zh": "候选点 {n}", "en": "Candidate {n}"},
    "scen.clear_points": {"zh": "清除候选点", "en": "Clear candidates"},
    "scen.points_hint": {"zh": "打开方案地图后点击地图，或输入坐标，即可加入候选点。",
                         "en": "Click the scenario map (switch it on below) or type "
                               "coordinates to add a candidate."},
    "scen.bad_coords": {"zh": "无法识别的坐标：{value}（应为“纬度, 经度”，如 30.27, 120.15）。",
                        "en": "Cannot read the coordinates “{value}” (expected "
                              "'lat, lon', e.g. 30.27, 120.15)."},
    "scen.map": {"zh": "方案地图（点击加入候选点）",
                 "en": "Scenario map (click to add a candidate)"},
    "scen.map_hint": {"zh": "显示方案的网点与缺口；开启“按区县着色”时显示方案的区县覆盖率。"
                            "点击地图加入候选点。",
                      "en": "The scenario's outlets and gaps; with 'Colour districts' on, its "
                            "district choropleth. Click the map to add a candidate."},
    "scen.figures": {"zh": "方案：{added} 个新增，{removed} 个关闭",
                     "en": "Scenario: {added} added, {removed} switched off"},
    "scen.live_note": {"zh": "与当前网络相比（同一覆盖范围）。",
                       "en": "Compared with the current network (same reach)."},
    "scen.name": {"zh": "方案名称", "en": "Scenario name"},
    "scen.note": {"zh": "说明", "en": "Note"},
    "scen.save": {"zh": "保存方案", "en": "Save scenario"},
    "scen.overwrite": {"zh": "覆盖同名方案", "en": "Replace a scenario of that name"},
    "scen.saved": {"zh": "已保存方案 {name}（第 {version} 版）。",
                   "en": "Saved scenario {name} (version {version})."},
    "scen.sign_in": {"zh": "以编辑者身份登录后可保存方案（侧栏）。",
                     "en": "Sign in as an editor (sidebar) to save scenarios."},
    "scen.file_network": {"zh": "使用上传文件时不能保存方案（方案保存在网点库中）。",
                          "en": "Scenarios are saved in the network store; not while "
                                "an uploaded file is in use."},
    "scen.open": {"zh": "打开已保存方案", "en": "Open a saved scenario"},
    "scen.none": {"zh": "（无）", "en": "(none)"},
    "scen.compare": {"zh": "比较两个方案", "en": "Compare two scenarios"},
    "scen.a": {"zh": "方案 A", "en": "Scenario A"},
    "scen.b": {"zh": "方案 B", "en": "Scenario B"},
    "scen.live": {"zh": "当前网络", "en": "Current network"},
    "scen.dl_compare": {"zh": "比较结果（CSV）", "en": "Comparison (CSV)"},
    "scen.broken": {"zh": "无法打开方案：{reason}", "en": "Cannot open the scenario: {reason}"},
    # --- network data
    "data.intro": {
        "zh": "上传网点文件：**CSV**（UTF-8 或 GB18030）、**XLSX** 或 **GeoJSON**。必填列："
              "`outlet_id, name, lat, lon`；可选：`kind`（service_center | repair_point）、"
              "`province, city, district, address, phone, hours, categories`（以 `;` 分隔）、"
              "`authorized`（每行 是/否：true/false、1/0、是/否、授权/未授权；"
              "没有此列则全部视为授权）、"
              "`coord_sys`（wgs84 | gcj02 | bd09，GCJ-02/BD-09 坐标会转换为 WGS-84）。",
        "en": "Upload your network as **CSV** (UTF-8 or GB18030), **XLSX** or **GeoJSON**. "
              "Required columns: `outlet_id, name, lat, lon`; optional: `kind` "
              "(service_center | repair_point), `province, city, district, address, phone, "
              "hours, categories` (`;`-separated), `authorized` (yes/no on every row: true/false, "
              "1/0, 是/否, 授权/未授权; without the column every outlet counts as authorized), "
              "`coord_sys` (wgs84 | gcj02 | bd09 — GCJ-02/BD-09 rows are converted to WGS-84).",
    },
    "data.file": {"zh": "网点文件", "en": "Outlets file"},
    "data.refused": {
        "zh": "**{name}** 未载入：{n} 处问题。未做任何更改；请修正这些行后重新上传。",
        "en": "**{name}** was not loaded: {n} problem(s). Nothing was changed; fix these "
              "rows and upload again.",
    },
    "data.using": {"zh": "正在使用 **{name}**：{n} 个网点。",
                   "en": "Using **{name}**: {n} outlets."},
    "data.back": {"zh": "恢复示例网点", "en": "Back to the sample network"},
    "data.audit": {"zh": "审核", "en": "Audit"},
    "data.no_findings": {"zh": "未发现问题：没有跨城共用热线、没有远离所在城市的网点、没有重复。",
                         "en": "No findings: no shared hotlines, no outlets far from "
                               "their city, no duplicates."},
    "data.outlets": {"zh": "网点", "en": "Outlets"},
    # --- network store
    "store.heading": {"zh": "网点库", "en": "Network store"},
    "store.caption": {
        "zh": "{url} 中有 {n} 个营业网点（读取于版本 {rev}）。每次修改都保存在网点历史中。",
        "en": "{n} open outlets in {url}, as read at revision {rev}. Every change is kept "
              "in the outlet's history.",
    },
    "store.changed": {"zh": "载入此表后网点库已有变更。",
                      "en": "The store has changed since you loaded this table."},
    "store.reload": {"zh": "重新载入表格", "en": "Reload the table"},
    "store.sign_in_to_edit": {"zh": "使用编辑者令牌登录（侧栏）后可修改网点。",
                              "en": "Sign in with an editor token (sidebar) to change outlets."},
    "store.reason_all": {"zh": "修改原因（必填）", "en": "Reason for these changes (required)"},
    "store.save_table": {"zh": "保存表格修改", "en": "Save table changes"},
    "store.need_reason": {"zh": "请填写修改原因：它会记录在历史中。",
                          "en": "Give a reason for the changes: it is recorded in the history."},
    "store.saved": {"zh": "已保存 {n} 个网点：{ids}。", "en": "Saved {n} outlet(s): {ids}."},
    "store.nothing": {"zh": "没有可保存的内容：未修改任何单元格。",
                      "en": "Nothing to save: no cell was changed."},
    "store.outlet": {"zh": "网点", "en": "Outlet"},
    "store.reason": {"zh": "原因（必填）", "en": "Reason (required)"},
    "store.save_outlet": {"zh": "保存网点", "en": "Save outlet"},
    "store.sign_in_history": {"zh": "使用令牌登录后可查看网点历史。",
                              "en": "Sign in with a token to see the outlet's history."},
    "store.history_of": {"zh": "**{id} 的历史**", "en": "**History of {id}**"},
    "store.auth_of": {"zh": "**{id} 的授权**：", "en": "**Authorization of {id}**: "},
    "store.authorized": {"zh": "已授权", "en": "authorized"},
    "store.unauthorized": {"zh": "未授权", "en": "not authorized"},
    "store.valid_until_is": {"zh": "，有效期至 {d}", "en": ", valid until {d}"},
    "store.authorization": {"zh": "授权", "en": "Authorization"},
    "store.grant": {"zh": "授予", "en": "Grant"},
    "store.revoke": {"zh": "撤销", "en": "Revoke"},
    "store.evidence": {"zh": "依据（合同编号…）", "en": "Evidence (contract number…)"},
    "store.limited": {"zh": "设定有效期", "en": "Valid until a date"},
    "store.valid_until": {"zh": "有效期至", "en": "Valid until"},
    "store.save_auth": {"zh": "保存授权", "en": "Save authorization"},
    "store.need_reason_short": {"zh": "请填写原因：它会记录在历史中。",
                                "en": "Give a reason: it is recorded in the history."},
    "store.granted": {"zh": "已授予 {id} 的授权。", "en": "Granted the authorization of {id}."},
    "store.revoked": {"zh": "已撤销 {id} 的授权。", "en": "Revoked the authorization of {id}."},
    # --- embed
    "embed.intro": {
        "zh": "一个**自包含**的 HTML 地图：Leaflet、jQuery 和 MarkerCluster 均已内嵌，页面不需要 "
              "CDN，可直接用 `file://` 打开。可放在任何地方，并用下面的 iframe 嵌入。",
        "en": "A **self-contained** HTML map: Leaflet, jQuery and MarkerCluster are inlined, so "
              "the page needs no CDN and works from `file://`. Host it anywhere and embed it "
              "with the iframe below.",
    },
    "embed.city": {"zh": "城市", "en": "City"},
    "embed.all_cities": {"zh": "全部服务城市", "en": "All listed cities"},
    "embed.layers": {"zh": "图层", "en": "Layers"},
    "embed.basemap": {"zh": "底图 ", "en": "Basemap "},
    "embed.layer.outlets": {"zh": "网点", "en": "outlets"},
    "embed.layer.coverage": {"zh": "覆盖范围", "en": "coverage"},
    "embed.layer.gaps": {"zh": "缺口", "en": "gaps"},
    "embed.download": {"zh": "下载 map.html", "en": "Download map.html"},
    # --- units (format helpers in locator.i18n)
    "unit.km": {"zh": "{v} km", "en": "{v} km"},
    "unit.minutes": {"zh": "约 {m} 分钟", "en": "about {m} min"},
    "unit.hours_minutes": {"zh": "约 {h} 小时 {m} 分钟", "en": "about {h} h {m} min"},
    "unit.hours": {"zh": "约 {h} 小时", "en": "about {h} h"},
    "unit.percent": {"zh": "{v} %", "en": "{v} %"},
}

#: Column name (as the library returns it) -> {language: table header}.
COLUMNS: dict[str, dict[str, str]] = {
    "outlet_id": {"zh": "网点编号", "en": "Outlet ID"},
    "name": {"zh": "名称", "en": "Name"},
    "outlet": {"zh": "网点", "en": "Outlet"},
    "kind": {"zh": "类型", "en": "Kind"},
    "province": {"zh": "省份", "en": "Province"},
    "city": {"zh": "城市", "en": "City"},
    "district": {"zh": "区县", "en": "District"},
    "address": {"zh": "地址", "en": "Address"},
    "lat": {"zh": "纬度", "en": "Latitude"},
    "lon": {"zh": "经度", "en": "Longitude"},
    "phone": {"zh": "电话", "en": "Phone"},
    "hours": {"zh": "营业时间", "en": "Hours"},
    "hours_label": {"zh": "营业状态", "en": "Open"},
    "categories": {"zh": "维修品类", "en": "Repairs"},
    "authorized": {"zh": "授权", "en": "Authorized"},
    "coord_sys": {"zh": "坐标系", "en": "Coordinates"},
    "distance_km": {"zh": "距离", "en": "Distance"},
    "drive_minutes": {"zh": "驾车（估算）", "en": "Drive (est.)"},
    "meets_promise": {"zh": "2 小时承诺", "en": "2-h promise"},
    "amap": {"zh": "高德路线", "en": "AMap 高德"},
    "baidu": {"zh": "百度路线", "en": "Baidu 百度"},
    "osm": {"zh": "OpenStreetMap 路线", "en": "OpenStreetMap"},
    "adcode": {"zh": "行政区划代码", "en": "Division code"},
    "prefecture": {"zh": "地级市", "en": "Prefecture"},
    "has_data": {"zh": "有人口数据", "en": "Has demand data"},
    "outlets": {"zh": "网点数", "en": "Outlets"},
    "population_total": {"zh": "人口", "en": "Population"},
    "population_covered": {"zh": "覆盖人口", "en": "Population covered"},
    "share_covered": {"zh": "覆盖率", "en": "Covered"},
    "population_backup": {"zh": "双重覆盖人口", "en": "Population with backup"},
    "places_total": {"zh": "地点数", "en": "Places"},
    "places_uncovered": {"zh": "未覆盖地点", "en": "Places uncovered"},
    "distance_p90_km": {"zh": "90% 分位距离", "en": "p90 distance"},
    "place_id": {"zh": "地点编号", "en": "Place ID"},
    "name_zh": {"zh": "中文名", "en": "Chinese name"},
    "population": {"zh": "人口", "en": "Population"},
    "nearest_km": {"zh": "最近网点距离", "en": "Nearest outlet"},
    "nearest_outlet_id": {"zh": "最近网点编号", "en": "Nearest outlet ID"},
    "nearest_outlet_name": {"zh": "最近网点", "en": "Nearest outlet name"},
    "nearest_outlet_city": {"zh": "最近网点城市", "en": "Nearest outlet city"},
    "rank": {"zh": "排名", "en": "Rank"},
    "candidate_id": {"zh": "候选点编号", "en": "Candidate ID"},
    "nearest_place": {"zh": "最近地点", "en": "Nearest place"},
    "nearest_place_zh": {"zh": "最近地点（中文）", "en": "Nearest place (Chinese)"},
    "population_gained": {"zh": "新增覆盖人口", "en": "Population gained"},
    "places_gained": {"zh": "新增覆盖地点", "en": "Places gained"},
    "population_covered_after": {"zh": "选址后覆盖人口", "en": "Population covered after"},
    "severity": {"zh": "严重程度", "en": "Severity"},
    "message": {"zh": "说明", "en": "Finding"},
    "outlet_ids": {"zh": "涉及网点", "en": "Outlets involved"},
    "row": {"zh": "行", "en": "Row"},
    "column": {"zh": "列", "en": "Column"},
    "value": {"zh": "值", "en": "Value"},
    "reason": {"zh": "原因", "en": "Reason"},
    "matched_by": {"zh": "匹配依据", "en": "Matched by"},
    "status": {"zh": "状态", "en": "Status"},
    "listing": {"zh": "网点记录", "en": "Listing"},
    "version": {"zh": "版本", "en": "Version"},
    "at": {"zh": "时间", "en": "When"},
    "actor": {"zh": "操作人", "en": "By"},
    "action": {"zh": "操作", "en": "Action"},
    "changes": {"zh": "修改内容", "en": "Changes"},
    "valid_until": {"zh": "有效期至", "en": "Valid until"},
    "evidence": {"zh": "依据", "en": "Evidence"},
    "closed": {"zh": "已关闭", "en": "Closed"},
    "at (UTC)": {"zh": "时间（UTC）", "en": "When (UTC)"},
    "by": {"zh": "操作人", "en": "By"},
    "orders_total": {"zh": "订单数", "en": "Orders"},
    "orders_per_day_mean": {"zh": "日均订单", "en": "Orders per day"},
    "orders_per_day_p95": {"zh": "日订单 95% 分位", "en": "Orders per day (p95)"},
    "peak_day_orders": {"zh": "单日峰值", "en": "Peak day orders"},
    "peak_day": {"zh": "峰值日", "en": "Peak day"},
    "orders_per_week_mean": {"zh": "周均订单", "en": "Orders per week"},
    "peak_week_orders": {"zh": "单周峰值", "en": "Peak week orders"},
    "peak_week": {"zh": "峰值周（周一）", "en": "Peak week (Monday)"},
    "distance_p50_km": {"zh": "距离中位数", "en": "Median distance"},
    "distance_max_km": {"zh": "最远距离", "en": "Farthest order"},
    "share_beyond_promise": {"zh": "超出 2 小时承诺", "en": "Beyond 2-h promise"},
    "capacity_per_day": {"zh": "日接单能力", "en": "Capacity per day"},
    "overloaded_days": {"zh": "超负荷天数", "en": "Days over capacity"},
    "utilisation_p95": {"zh": "使用率（95% 分位）", "en": "Utilisation (p95)"},
    "overloaded": {"zh": "超负荷", "en": "Overloaded"},
    "date": {"zh": "日期", "en": "Date"},
    "week": {"zh": "周（周一）", "en": "Week (Monday)"},
    "orders": {"zh": "订单数", "en": "Orders"},
    "over_capacity": {"zh": "超出能力", "en": "Over capacity"},
}
# fmt: on


def message(key: str, lang: str = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """The text of message ``key`` in ``lang`` with its ``{placeholders}`` filled.

    An unknown language falls back to :data:`DEFAULT_LANGUAGE`; an unknown key is a
    ``KeyError`` (a typo in code, never shown to a user as a raw id)."""
    entry = MESSAGES[key]
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def column(name: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The header of column ``name`` in ``lang`` (the name itself if it has none)."""
    entry = COLUMNS.get(name)
    if entry is None:
        return name
    return entry.get(lang) or entry[DEFAULT_LANGUAGE]


def both(key: str) -> str:
    """English and Chinese together ("Service center 服务中心"), for pages that serve
    both audiences at once (the embeddable map, popups)."""
    return f"{MESSAGES[key]['en']} {MESSAGES[key]['zh']}"


#: Outlet kind -> bilingual label ("Service center 服务中心").
KIND_LABELS: dict[str, str] = {k: both(f"kind.{k}") for k in _KINDS}

#: Product category -> bilingual label ("Washer 洗衣机").
CATEGORY_LABELS: dict[str, str] = {k: both(f"category.{k}") for k in _CATEGORIES}

#: The warning shown on an outlet that is not authorized.
NOT_AUTHORIZED = both("not_authorized")
