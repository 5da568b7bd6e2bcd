-- The app already runs on the new database: task 1 was edited there after the export,
-- task 2 is older there than in the export, task 3 is the same, task 9 exists only here.
INSERT INTO tasks VALUES (1, 'Write the report (final)', 'done', '2025-03-10 09:00:00');
INSERT INTO tasks VALUES (2, 'Call the bank', 'open', '2025-01-01 08:00:00');
INSERT INTO tasks VALUES (3, 'Book flights', 'open', '2025-02-01 12:00:00');
INSERT INTO tasks VALUES (9, 'Water plants', 'open', '2025-03-12 07:30:00');
