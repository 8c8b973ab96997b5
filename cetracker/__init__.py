"""CE Tracker."""
