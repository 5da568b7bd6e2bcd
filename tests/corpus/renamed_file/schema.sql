CREATE TABLE customer_orders (
    order_id INTEGER PRIMARY KEY,
    customer_email TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price REAL,
    description TEXT,
    status TEXT NOT NULL,
    shipped_at DATETIME
);
