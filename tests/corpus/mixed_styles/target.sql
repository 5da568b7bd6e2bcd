-- Two app versions wrote created_at differently: most rows "YYYY-MM-DD HH:MM:SS", a few ISO with Z.
INSERT INTO notes VALUES ('n-001', 'Groceries: milk, eggs', 0, '2024-05-01 10:00:00');
INSERT INTO notes VALUES ('n-002', 'Dentist Tuesday', 1, '2024-05-02 08:15:00');
INSERT INTO notes VALUES ('n-003', 'Idea: café playlist', 0, '2024-05-03 21:40:00');
INSERT INTO notes VALUES ('n-004', 'Call Zoë', 0, '2024-05-04T09:00:00Z');
