#!/usr/bin/env python3
"""Deterministic generator for the Lakebook demo tables.

Run from anywhere:  python3 assets/demo/make_tables.py
Requires: pyarrow, openpyxl (pip install pyarrow openpyxl)

Every value comes from a seeded random.Random, so re-running produces the
same data (parquet/xlsx/arrow files may differ only in writer metadata).
"""
import csv
import datetime as dt
import json
import os
import random

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from openpyxl import Workbook

SEED = 20240101
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tables")

FIRST_NAMES = [
    "Alice", "Bruno", "Carla", "Daniel", "Elena", "Farid", "Greta", "Hugo",
    "Ines", "Jonas", "Keiko", "Liam", "Maya", "Nikolai", "Olivia", "Pedro",
    "Quinn", "Rosa", "Samir", "Tessa", "Umar", "Vera", "Walter", "Ximena",
    "Yusuf", "Zoe", "Anders", "Beatriz", "Chen", "Dara", "Emil", "Fatima",
    "Gabriel", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Marco", "Nora",
]
LAST_NAMES = [
    "Andersen", "Baker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia",
    "Hoffmann", "Ito", "Jansen", "Kowalski", "Lopez", "Moreau", "Novak",
    "Okafor", "Petrov", "Quintero", "Rossi", "Schmidt", "Tanaka", "Uribe",
    "Virtanen", "Weber", "Yilmaz", "Zhang", "Brennan", "Castillo", "Haddad",
    "Lindqvist", "Mendes",
]
EMAIL_DOMAINS = ["example.com", "mail.example.org", "inbox.example.net", "post.example.io"]
# (city, country) pairs
CITIES = [
    ("Lisbon", "Portugal"), ("Porto", "Portugal"), ("Madrid", "Spain"),
    ("Barcelona", "Spain"), ("Paris", "France"), ("Lyon", "France"),
    ("Berlin", "Germany"), ("Hamburg", "Germany"), ("Munich", "Germany"),
    ("Amsterdam", "Netherlands"), ("Rotterdam", "Netherlands"),
    ("Copenhagen", "Denmark"), ("Stockholm", "Sweden"), ("Oslo", "Norway"),
    ("Helsinki", "Finland"), ("Dublin", "Ireland"), ("London", "United Kingdom"),
    ("Manchester", "United Kingdom"), ("Edinburgh", "United Kingdom"),
    ("Milan", "Italy"), ("Rome", "Italy"), ("Vienna", "Austria"),
    ("Zurich", "Switzerland"), ("Prague", "Czechia"), ("Warsaw", "Poland"),
    ("Portland", "United States"), ("Seattle", "United States"),
    ("Denver", "United States"), ("Toronto", "Canada"), ("Vancouver", "Canada"),
]

# category -> (brand words, [(product kind, min kg, max kg, min price, max price)])
CATEGORIES = {
    "Tents": (["Ridgeline", "Summit", "Meadow", "Alpine", "Basecamp"],
              [("1P Tent", 0.9, 1.6, 180, 420), ("2P Tent", 1.4, 2.6, 220, 520),
               ("4P Family Tent", 4.5, 7.5, 280, 640), ("Tarp Shelter", 0.4, 0.9, 60, 180)]),
    "Backpacks": (["Trailhead", "Canyon", "Switchback", "Nomad"],
                  [("Daypack 22L", 0.5, 0.9, 45, 120), ("Pack 45L", 1.1, 1.7, 110, 220),
                   ("Pack 65L", 1.6, 2.4, 160, 320), ("Hip Pack", 0.2, 0.4, 25, 60)]),
    "Footwear": (["Granite", "Mossy", "Scree", "Tundra"],
                 [("Hiking Boot", 1.1, 1.6, 120, 240), ("Trail Runner", 0.5, 0.8, 90, 170),
                  ("Camp Sandal", 0.4, 0.7, 35, 80), ("Winter Boot", 1.4, 1.9, 140, 260)]),
    "Apparel": (["Fjord", "Drift", "Harbor", "Cirrus"],
                [("Rain Jacket", 0.3, 0.6, 120, 340), ("Fleece Pullover", 0.3, 0.5, 50, 120),
                 ("Merino Base Layer", 0.15, 0.3, 55, 110), ("Down Vest", 0.2, 0.4, 90, 200),
                 ("Wool Socks", 0.05, 0.12, 14, 28)]),
    "Cooking": (["Ember", "Campfire", "Kettle", "Hearth"],
                [("Stove", 0.1, 0.6, 40, 160), ("Cook Set", 0.3, 1.2, 35, 110),
                 ("Titanium Mug", 0.08, 0.15, 20, 45), ("Coffee Press", 0.15, 0.4, 25, 55)]),
    "Lighting": (["Lumen", "Firefly", "Beacon"],
                 [("Headlamp", 0.05, 0.12, 20, 90), ("Lantern", 0.2, 0.6, 30, 110),
                  ("Solar Light", 0.1, 0.3, 18, 60)]),
    "Sleep": (["Dreamline", "Cocoon", "Nightjar"],
              [("Sleeping Bag -5C", 1.1, 1.8, 180, 450), ("Sleeping Bag +5C", 0.7, 1.2, 90, 260),
               ("Sleeping Pad", 0.35, 0.9, 50, 190), ("Camp Pillow", 0.06, 0.15, 18, 45)]),
}
TAG_POOL = {
    "Tents": ["shelter", "waterproof", "ultralight", "family"],
    "Backpacks": ["carry", "hydration-ready", "ultralight", "travel"],
    "Footwear": ["waterproof", "grip", "vegan", "winter"],
    "Apparel": ["layering", "waterproof", "merino", "recycled"],
    "Cooking": ["camp-kitchen", "ultralight", "coffee", "titanium"],
    "Lighting": ["rechargeable", "usb-c", "solar", "night"],
    "Sleep": ["insulated", "ultralight", "winter", "compact"],
}

STATUSES = ["placed", "shipped", "delivered", "returned"]
STATUS_WEIGHTS = [10, 15, 65, 10]


def fmt2(x):
    return f"{x:.2f}"


def rand_date(rng, start, end):
    span = (end - start).days
    return start + dt.timedelta(days=rng.randint(0, span))


def make_customers(rng, n=300):
    rows = []
    used_emails = set()
    for _ in range(n):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        base = f"{first}.{last}".lower()
        email = f"{base}@{rng.choice(EMAIL_DOMAINS)}"
        k = 2
        while email in used_emails:
            email = f"{base}{k}@{email.split('@')[1]}"
            k += 1
        used_emails.add(email)
        city, country = rng.choice(CITIES)
        signup = rand_date(rng, dt.date(2023, 1, 1), dt.date(2024, 9, 30))
        ltv = round(rng.lognormvariate(5.5, 0.8), 2)
        active = rng.random() < 0.8
        rows.append(dict(customer_id=0, first_name=first, last_name=last,
                         email=email, city=city, country=country,
                         signup_date=signup, lifetime_value=ltv, is_active=active))
    # ids are handed out in signup order, like an auto-increment key
    rows.sort(key=lambda r: r["signup_date"])
    for cid, r in enumerate(rows, start=1):
        r["customer_id"] = cid
    return rows


def make_clients(rng, customers, overlap=180, extra=70):
    shared = sorted(rng.sample(customers, overlap), key=lambda r: r["customer_id"])
    used_emails = {c["email"] for c in customers}
    rows = []
    for c in shared:
        rows.append(dict(client_no=c["customer_id"] + 10000,
                         full_name=f"{c['first_name']} {c['last_name']}",
                         mail=c["email"], town=c["city"], nation=c["country"],
                         joined_on=c["signup_date"], total_spend=c["lifetime_value"]))
    for i in range(1, extra + 1):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        base = f"{first[0]}{last}".lower()
        email = f"{base}@{rng.choice(EMAIL_DOMAINS)}"
        k = 2
        while email in used_emails:
            email = f"{base}{k}@{email.split('@')[1]}"
            k += 1
        used_emails.add(email)
        city, country = rng.choice(CITIES)
        rows.append(dict(client_no=20000 + i, full_name=f"{first} {last}",
                         mail=email, town=city, nation=country,
                         joined_on=rand_date(rng, dt.date(2023, 1, 1), dt.date(2024, 12, 31)),
                         total_spend=round(rng.lognormvariate(5.3, 0.9), 2)))
    rng.shuffle(rows)  # different row order than customers, too
    return rows


def make_products(rng):
    rows = []
    sku_n = 1001
    names_seen = set()
    cats = list(CATEGORIES)
    # 60 products spread over the 7 categories
    per_cat = [9, 9, 9, 9, 8, 8, 8]
    for cat, count in zip(cats, per_cat):
        brands, kinds = CATEGORIES[cat]
        made = 0
        while made < count:
            kind, wlo, whi, plo, phi = rng.choice(kinds)
            name = f"{rng.choice(brands)} {kind}"
            if name in names_seen:
                continue
            names_seen.add(name)
            price = round(rng.uniform(plo, phi), 0) - 0.01
            weight = round(rng.uniform(wlo, whi), 2)
            tags = sorted(rng.sample(TAG_POOL[cat], rng.randint(1, 3)))
            rows.append(dict(sku=f"NW-{sku_n}", name=name, category=cat,
                             price=round(price, 2), weight_kg=weight,
                             in_stock=rng.random() < 0.85, tags=tags))
            sku_n += 1
            made += 1
    return rows


def make_orders(rng, customers, products, n=2000):
    dates = sorted(rand_date(rng, dt.date(2023, 2, 1), dt.date(2024, 12, 31)) for _ in range(n))
    rows = []
    for i, d in enumerate(dates):
        # only customers who had already signed up on the order date
        eligible = [c for c in customers if c["signup_date"] <= d]
        cust = rng.choice(eligible)
        prod = rng.choice(products)
        qty = rng.choices([1, 2, 3, 4, 5], weights=[50, 25, 12, 8, 5])[0]
        price = prod["price"]
        if rng.random() < 0.15:  # occasional discount
            price = round(price * 0.9, 2)
        status = rng.choices(STATUSES, weights=STATUS_WEIGHTS)[0]
        rows.append(dict(order_id=100001 + i, customer_id=cust["customer_id"],
                         order_date=d, product_sku=prod["sku"], quantity=qty,
                         unit_price=price, status=status))
    return rows


def write_csv(path, fieldnames, rows, fmt):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(fieldnames)
        for r in rows:
            w.writerow([fmt(k, r[k]) for k in fieldnames])


def cell(k, v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return fmt2(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def normalize_xlsx(path):
    """openpyxl stamps the save time into the zip entries and docProps/core.xml;
    pin both so the .xlsx is byte-for-byte reproducible."""
    import re
    import zipfile
    with zipfile.ZipFile(path) as z:
        entries = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)",
                              rb"\g<1>2024-01-01T00:00:00Z\g<2>", data)
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            z.writestr(zi, data)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(SEED)

    customers = make_customers(rng)
    clients = make_clients(rng, customers)
    products = make_products(rng)
    orders = make_orders(rng, customers, products)

    # 1. customers.csv
    write_csv(os.path.join(OUT, "customers.csv"),
              ["customer_id", "first_name", "last_name", "email", "city", "country",
               "signup_date", "lifetime_value", "is_active"], customers, cell)

    # 2. clients.parquet (same concept, other names / order / types)
    ctable = pa.table({
        "client_no": pa.array([r["client_no"] for r in clients], pa.int64()),
        "full_name": pa.array([r["full_name"] for r in clients], pa.string()),
        "mail": pa.array([r["mail"] for r in clients], pa.string()),
        "town": pa.array([r["town"] for r in clients], pa.string()),
        "nation": pa.array([r["nation"] for r in clients], pa.string()),
        "joined_on": pa.array([r["joined_on"] for r in clients], pa.date32()),
        "total_spend": pa.array([r["total_spend"] for r in clients], pa.float64()),
    })
    pq.write_table(ctable, os.path.join(OUT, "clients.parquet"), compression="snappy")

    # 3. orders.csv and 4. orders_2024_q1.csv
    ocols = ["order_id", "customer_id", "order_date", "product_sku", "quantity",
             "unit_price", "status"]
    write_csv(os.path.join(OUT, "orders.csv"), ocols, orders, cell)
    q1 = [o for o in orders if dt.date(2024, 1, 1) <= o["order_date"] <= dt.date(2024, 3, 31)]
    write_csv(os.path.join(OUT, "orders_2024_q1.csv"), ocols, q1, cell)

    # 5. products.ndjson
    with open(os.path.join(OUT, "products.ndjson"), "w", encoding="utf-8") as f:
        for p in products:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")

    # 6. products_backup.json: near duplicate, top-level array
    backup = [dict(p, tags=list(p["tags"])) for p in products]
    changed = {"NW-1005": 0, "NW-1023": 0, "NW-1042": 0}
    for p in backup:
        if p["sku"] in changed:
            p["price"] = round(p["price"] + 10.00, 2)  # older price list: +10.00
            changed[p["sku"]] = p["price"]
    backup = [p for p in backup if p["sku"] != "NW-1017"]  # one row missing
    backup.append(dict(sku="NW-1099", name="Harbor Bucket Hat", category="Apparel",
                       price=24.99, weight_kg=0.09, in_stock=False,
                       tags=["recycled", "sun"]))  # one extra row
    with open(os.path.join(OUT, "products_backup.json"), "w", encoding="utf-8") as f:
        json.dump(backup, f, indent=2, ensure_ascii=False)
        f.write("\n")

    # 7. stores.xlsx
    wb = Workbook()
    ws = wb.active
    ws.title = "stores"
    ws.append(["store_id", "store_name", "city", "opened", "floor_area_m2"])
    store_cities = [c for c in CITIES][:25]
    for sid, (city, _country) in enumerate(store_cities, start=1):
        opened = rand_date(rng, dt.date(2015, 1, 1), dt.date(2024, 6, 30))
        ws.append([sid, f"Northwind {city}", city,
                   dt.datetime(opened.year, opened.month, opened.day),
                   round(rng.uniform(180, 1400), 0) + 0.5])
        ws.cell(row=sid + 1, column=4).number_format = "yyyy-mm-dd"
    ws2 = wb.create_sheet("regions")
    ws2.append(["region", "country", "manager"])
    regions = [
        ("Iberia", "Portugal", "Marta Quintero"), ("Iberia", "Spain", "Pablo Uribe"),
        ("Western Europe", "France", "Claire Moreau"),
        ("Central Europe", "Germany", "Jonas Weber"),
        ("Benelux", "Netherlands", "Sanne Jansen"),
        ("Nordics", "Sweden", "Ingrid Lindqvist"),
        ("British Isles", "United Kingdom", "Owen Brennan"),
        ("North America", "United States", "Dana Castillo"),
    ]
    for r in regions:
        ws2.append(list(r))
    fixed = dt.datetime(2024, 1, 1, 0, 0, 0)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "Lakebook demo generator"
    xlsx_path = os.path.join(OUT, "stores.xlsx")
    wb.save(xlsx_path)
    normalize_xlsx(xlsx_path)

    # 8. sensor_readings.arrow (Arrow IPC file): 25 stores x 200 hourly readings
    sids, tss, temps, hums = [], [], [], []
    t0 = dt.datetime(2024, 7, 1, 0, 0, 0)
    import math
    for sid in range(1, 26):
        base_t = rng.uniform(19.0, 23.0)
        base_h = rng.uniform(35.0, 55.0)
        for h in range(200):
            ts = t0 + dt.timedelta(hours=h)
            daily = math.sin((ts.hour - 9) / 24 * 2 * math.pi)
            sids.append(sid)
            tss.append(ts)
            temps.append(round(base_t + 2.0 * daily + rng.gauss(0, 0.4), 2))
            hums.append(round(base_h - 5.0 * daily + rng.gauss(0, 1.5), 1))
    stable = pa.table({
        "store_id": pa.array(sids, pa.int32()),
        "ts": pa.array(tss, pa.timestamp("ms")),
        "temperature_c": pa.array(temps, pa.float32()),
        "humidity_pct": pa.array(hums, pa.float32()),
    })
    with pa.OSFile(os.path.join(OUT, "sensor_readings.arrow"), "wb") as sink:
        with ipc.new_file(sink, stable.schema) as writer:
            writer.write_table(stable, max_chunksize=1000)

    print(f"customers={len(customers)} clients={len(clients)} products={len(products)} "
          f"backup={len(backup)} orders={len(orders)} q1={len(q1)} stores={len(store_cities)} "
          f"regions={len(regions)} readings={stable.num_rows}")
    print("changed backup prices:", changed)


if __name__ == "__main__":
    main()
