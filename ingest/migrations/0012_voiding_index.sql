-- The targets of voiding statements, in an index as small as their number: the voided check
-- of every statement query reads it instead of filtering the whole table.
CREATE INDEX statements_voiding_targets ON statements (ref_target) WHERE voiding;
