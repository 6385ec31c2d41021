-- For `hyperedu bench append --variant`: what the statements table's (verb, seq) index costs
-- a statement, for comparison with the side tables' indexes (few verbs, so its inserts land
-- on a few hot leaf pages).
DROP INDEX statements_verb;
